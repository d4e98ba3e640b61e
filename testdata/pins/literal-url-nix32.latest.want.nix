{ config, pkgs, ... }:

{
  boot.kernelPackages = pkgs.linuxPackages_custom {
    version = "7.0.1-custom";
    src = pkgs.fetchurl {
      url = "mirror://kernel/linux/kernel/v7.x/linux-7.0.1.tar.xz";
      sha256 = "1xidbanzywrx8bhq9vdbg6ix83j0gv8mnsnbr379smbycp9pzwlb";
    };
    configfile = /etc/nixos/customKernel.config; # cat /proc/config.gz | gunzip
  };
}
