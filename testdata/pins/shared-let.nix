{ pkgs, ... }:
let
  version = "6.1.55";
  src = pkgs.fetchurl {
    url = "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-${version}.tar.xz";
    hash = "sha256-4AQzawOWbxb6k7ROs7ozxveZ87F8gp9hBs+5Yc6OvXc=";
  };
in
{
  linux_guest = pkgs.linuxManualConfig {
    inherit version src;
    configfile = ./guest.config;
  };
  linux_host = pkgs.linuxManualConfig {
    inherit version src;
    configfile = ./host.config;
  };
}
