{ config, pkgs, ... }:

{
  boot = {
    loader = {
      systemd-boot.enable = true;
      efi.canTouchEfiVariables = true;
    };
    kernelPackages = pkgs.linuxPackagesFor (pkgs.linux_6_6.override {
      argsOverride = rec {
        src = pkgs.fetchurl {
              url = "mirror://kernel/linux/kernel/v6.x/linux-${version}.tar.xz";
              sha256 = "33c9d48e5465a6c029a976485da1fd25d28ce399f4d2b60fb5a129a60b966f7f";
        };
        version = "6.6.30";
        modDirVersion = "6.6.30";
        };
    });
  };
}
