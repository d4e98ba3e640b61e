{ pkgs, ... }:
{
  vendor = pkgs.linuxManualConfig {
    version = "6.1.55";
    src = pkgs.fetchgit {
      url = "https://example.invalid/vendor/linux.git";
      rev = "v6.1.55-vendor";
      hash = "sha256-4AQzawOWbxb6k7ROs7ozxveZ87F8gp9hBs+5Yc6OvXc=";
    };
    configfile = ./vendor.config;
  };

  linux_vm = pkgs.linuxManualConfig rec {
    version = "6.1.163";
    src = pkgs.fetchurl {
      url = "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-${version}.tar.xz";
      hash = "sha256-NGVcAr8Z4PH2lEpw1xuEZ/PQs8vlE659d3cB5VXIpfY=";
    };
    configfile = ./vm.config;
  };
}
