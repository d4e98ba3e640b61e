# nixpkgs' zen-kernels.nix, trimmed to what the sample needs: the variants'
# marked lines, which update-zen.py and kupdate rewrite, and the source
# fetched with fetchFromGitHub from zen-kernel's tag, so that building a
# zen kernel checks the hash kupdate wrote (KUPDATE_GITHUB_MIRROR points
# github.com at the simulator, whose tag tarballs srcarchivetest.Kernel
# makes).
{
  lib,
  fetchFromGitHub,
  buildLinux,
  variant,
  ...
}@args:

let
  # Comments with variant added for update script
  variants = {
    # ./update-zen.py zen
    zen = {
      version = "6.18.4"; # zen
      suffix = "zen1"; # zen
      hash = "sha256-pAddOc2WneZbvp1VIcX+BOEzO2lSDnYvFgBnI0bUCUk="; # zen
      isLqx = false;
    };
    # ./update-zen.py lqx
    lqx = {
      version = "6.18.3"; # lqx
      suffix = "lqx1"; # lqx
      hash = "sha256-+9shS4n45+3jv0ZItTBrOuAnfhJS+r9bgd3Om2E67vE="; # lqx
      isLqx = true;
    };
  };
  zenKernelsFor =
    {
      version,
      suffix,
      hash,
      isLqx,
    }:
    buildLinux (
      args
      // {
        inherit version;
        pname = "linux-${if isLqx then "lqx" else "zen"}";
        modDirVersion = lib.versions.pad 3 "${version}-${suffix}";

        src = fetchFromGitHub {
          owner = "zen-kernel";
          repo = "zen-kernel";
          rev = "v${version}-${suffix}";
          inherit hash;
        };

        extraMeta.branch = lib.versions.majorMinor version + "/master";
      }
    );
in
zenKernelsFor variants.${variant}
