{ config, pkgs, ... }:

{
  boot.kernelPackages = pkgs.linuxPackages_custom {
    version = "5.15.200-custom";
    src = pkgs.fetchurl {
      url = "mirror://kernel/linux/kernel/v5.x/linux-5.15.200.tar.xz";
      sha256 = "0dyfgvsrlq3rgizraib5b86r9jyvb8dr171wlxd8ixbvv4yqs2im";
    };
    configfile = /etc/nixos/customKernel.config; # cat /proc/config.gz | gunzip
  };
}
