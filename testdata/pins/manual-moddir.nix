{ pkgs, ... }:
pkgs.linuxPackages_custom rec {
  version = "6.1.55-custom";
  modDirVersion = "6.1.55";
  src = pkgs.fetchurl {
    url = "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-${modDirVersion}.tar.xz";
    hash = "sha256-4AQzawOWbxb6k7ROs7ozxveZ87F8gp9hBs+5Yc6OvXc=";
  };
  configfile = ./path_to_config_file;
}
