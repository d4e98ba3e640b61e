# A stand-in for nixpkgs' buildLinux: the same arguments, but the "build"
# only records what it was given. Its inputs are real: the source fetched
# with the hash from kernels-org.json or hardened/patches.json, and the
# kernel patches.
{ lib }:

let
  mkDerivation =
    name: script:
    derivation {
      inherit name;
      system = builtins.currentSystem;
      builder = "/bin/sh";
      args = [
        "-c"
        script
      ];
    };

  buildLinux =
    {
      version,
      src,
      pname ? "linux",
      modDirVersion ? lib.versions.pad 3 version,
      kernelPatches ? [ ],
      extraMeta ? { },
      isHardened ? false,
      structuredExtraConfig ? { },
      ...
    }@args:
    let
      patches = builtins.concatStringsSep " " (map (p: "${p.patch}") kernelPatches);
      configfile = mkDerivation "linux-config-${version}" ''
        echo "# Linux ${modDirVersion} configuration (sample): src=${src} patches=${patches}" > $out
      '';
      kernel = mkDerivation "${pname}-${version}" ''
        echo "${pname} ${modDirVersion} src=${src} config=${configfile} patches=${patches}" > $out
      '';
    in
    kernel
    // {
      inherit
        version
        modDirVersion
        src
        configfile
        kernelPatches
        isHardened
        ;
      baseVersion = lib.versions.pad 2 version;
      kernelAtLeast = v: lib.versionAtLeast version v;
      kernelOlder = v: lib.versionOlder version v;
      isLTS = extraMeta.isLTS or false;
      meta = {
        branch = extraMeta.branch or (lib.versions.majorMinor version);
      } // extraMeta;
      override = new: buildLinux (args // new // (new.argsOverride or { }));
    };
in
buildLinux
