{ pkgs }:

let
  # set the configurations here
  compileKernel = true;
  kernelVersion = "6.12.70";

  kernelPackages = if compileKernel then
    pkgs.linuxPackagesFor (pkgs.linux_latest.override {
      argsOverride = rec {
        src = pkgs.fetchurl {
          url = "mirror://kernel/linux/kernel/v6.x/linux-${version}.tar.xz";
          sha256 = "50ed9f8f12357f4fe333ce2a82fa5d1b04f5aad73e171bc273591165ac52005f";
        };
        version = kernelVersion;
        modDirVersion = kernelVersion;
      };
    })
  else
    pkgs.linuxPackages_latest;
in
  kernelPackages
