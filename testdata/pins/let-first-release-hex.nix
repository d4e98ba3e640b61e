{ pkgs }:

let
  # set the configurations here
  compileKernel = true;
  kernelVersion = "6.12";

  kernelPackages = if compileKernel then
    pkgs.linuxPackagesFor (pkgs.linux_latest.override {
      argsOverride = rec {
        src = pkgs.fetchurl {
          url = "mirror://kernel/linux/kernel/v6.x/linux-${version}.tar.xz";
          sha256 = "e12d593acf4dd51e1fb5e738cec9adfc56d71be3d2245764d245a4ca0a2794ab";
        };
        version = kernelVersion;
        modDirVersion = kernelVersion;
      };
    })
  else
    pkgs.linuxPackages_latest;
in
  kernelPackages
