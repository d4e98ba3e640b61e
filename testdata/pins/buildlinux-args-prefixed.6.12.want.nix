{ config, pkgs, ... }:

# You can also uses a different kernel from nixpkgs, eg:
#   boot.kernelPackages = pkgs.linuxPackages_testing;
{
  boot.kernelPackages = let
      customLinuxF = { fetchurl, buildLinux, ... } @ args:
        buildLinux (args // rec {
          version = "6.12.70";
          extraMeta.branch = "6.12";
          modDirVersion = "${version}";

          src = fetchurl {
            url = "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-${version}.tar.xz";
            sha256 = "sha256:0pq0aan6a4arfg11n5rysymga10vbpx84anf6gilyzrm2a7rzvah";
          };
          kernelPatches = [];
        } // (args.argsOverride or {}));
      customLinux = pkgs.callPackage customLinuxF{};
    in
      pkgs.recurseIntoAttrs (pkgs.linuxPackagesFor customLinux);
}
