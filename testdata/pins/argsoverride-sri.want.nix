{ config, pkgs, lib, ... }: let
  lts = pkgs.linuxPackagesFor (pkgs.linux_6_1.override {
    argsOverride = rec {
      src = pkgs.fetchurl {
        url = "mirror://kernel/linux/kernel/v6.x/linux-${version}.tar.xz";
        sha256 = "sha256-NGVcAr8Z4PH2lEpw1xuEZ/PQs8vlE659d3cB5VXIpfY=";
      };
      version = "6.1.163";
      modDirVersion = "6.1.163";
    };
  });
  latest = pkgs.linuxPackages_latest;
in {
  boot.kernelPackages = if config.my.kernel == "latest" then latest else lts;
}
