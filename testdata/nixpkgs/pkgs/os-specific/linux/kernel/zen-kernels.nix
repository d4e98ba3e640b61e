# A variant kupdate does not manage (like nixpkgs' zen, lqx and xanmod
# kernels): it has its own version and source and must survive every edit.
{
  lib,
  buildLinux,
  variant,
  kernelPatches ? [ ],
  ...
}:

let
  versions = {
    zen = "6.18.4";
    lqx = "6.18.3";
  };
  version = versions.${variant};
in
buildLinux {
  pname = "linux-${variant}";
  inherit version kernelPatches;
  modDirVersion = "${lib.versions.pad 3 version}-${variant}1";
  src = builtins.toFile "linux-${variant}-${version}-src" "sample ${variant} kernel source";
  extraMeta.branch = lib.versions.majorMinor version;
}
