{ pkgs, ... }:
pkgs.linuxPackages_custom rec {
  version = "latest-custom";
  src = pkgs.fetchurl {
    url = "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.1.55.tar.xz";
    hash = "sha256-4AQzawOWbxb6k7ROs7ozxveZ87F8gp9hBs+5Yc6OvXc=";
  };
  configfile = ./config;
}
