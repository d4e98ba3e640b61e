{ config, lib, pkgs, ... }:
{
  boot = {
    kernelPackages = pkgs.linuxPackagesFor (
      let
        version = "6.1.163";
      in
      (pkgs.linuxManualConfig {
        version = "${version}-gerg";
        modDirVersion = "${version}-gerg";
        src = pkgs.fetchurl {
          url = "mirror://kernel/linux/kernel/v${lib.versions.major version}.x/linux-${version}.tar.xz";
          hash = "sha256-NGVcAr8Z4PH2lEpw1xuEZ/PQs8vlE659d3cB5VXIpfY=";
        };

        inherit (config.boot) kernelPatches;

        configfile = ./kernelConfig;
      }).overrideAttrs
        (old: {
          passthru = (old.passthru or { }) // {
            features = { ia32Emulation = true; efiBootStub = true; };
          };
        })
    );
  };
}
