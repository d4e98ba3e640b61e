{ config, pkgs, lib, ... }: let
  lts = pkgs.linuxPackagesFor (pkgs.linux_6_1.override {
    argsOverride = rec {
      src = pkgs.fetchurl {
        url = "mirror://kernel/linux/kernel/v6.x/linux-${version}.tar.xz";
        sha256 = "sha256-V6msuLAIjsmce4LfBA3DxkGeLsS2BLS3nNqS+UfpGr4=";
      };
      version = "6.1.66";
      modDirVersion = "6.1.66";
    };
  });
  latest = pkgs.linuxPackages_latest;
in {
  boot.kernelPackages = if config.my.kernel == "latest" then latest else lts;
}
