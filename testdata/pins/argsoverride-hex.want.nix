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
              sha256 = "3795cc48c6c4c545634082a206dad8c224641361817962a5489d8ba3a5f6135d";
        };
        version = "6.6.125";
        modDirVersion = "6.6.125";
        };
    });
  };
}
