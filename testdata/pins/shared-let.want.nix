{ pkgs, ... }:
let
  version = "6.1.163";
  src = pkgs.fetchurl {
    url = "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-${version}.tar.xz";
    hash = "sha256-NGVcAr8Z4PH2lEpw1xuEZ/PQs8vlE659d3cB5VXIpfY=";
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
