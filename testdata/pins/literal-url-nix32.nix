{ config, pkgs, ... }:

{
  boot.kernelPackages = pkgs.linuxPackages_custom {
    version = "5.15.190-custom";
    src = pkgs.fetchurl {
      url = "mirror://kernel/linux/kernel/v5.x/linux-5.15.190.tar.xz";
      sha256 = "1ywwmzx6dmzdk851z7z0lfmf9cliqan9a3h1q90kcxhfgvxci60b";
    };
    configfile = /etc/nixos/customKernel.config; # cat /proc/config.gz | gunzip
  };
}
