{
  lib,
  fetchurl,
  fetchzip,
  buildLinux,
  branch,
  ...
}@args:

let
  thisKernel = (lib.importJSON ./kernels-org.json).${branch};
  inherit (thisKernel) version;

  # testing is an rc snapshot whose .tar.gz is generated on the fly, so its
  # hash is the NAR hash of the unpacked tree.
  src =
    if branch == "testing" then
      fetchzip {
        url = "https://git.kernel.org/torvalds/t/linux-${version}.tar.gz";
        inherit (thisKernel) hash;
      }
    else
      fetchurl {
        url = "mirror://kernel/linux/kernel/v${lib.versions.major version}.x/linux-${version}.tar.xz";
        inherit (thisKernel) hash;
      };
in
buildLinux (
  args
  // {
    inherit version src;
    modDirVersion = lib.versions.pad 3 version;
    extraMeta = {
      branch = if branch == "testing" then lib.versions.majorMinor version else branch;
      isLTS = thisKernel.lts or false;
    };
  }
  // (args.argsOverride or { })
)
