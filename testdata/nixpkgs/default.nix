# kupdate's sample nixpkgs tree: the paths and the shape of the files kupdate
# edits (pkgs/top-level/linux-kernels.nix, pkgs/top-level/aliases.nix,
# pkgs/os-specific/linux/kernel/kernels-org.json, .../hardened/patches.json)
# are nixpkgs' own, but every "kernel" is a tiny derivation: building one
# fetches its source with the hash kupdate wrote (so Nix itself checks that
# hash) and writes one line.
#
#   nix-build --option substituters '' -A linuxKernel.kernels.linux_6_12
#   nix-build --option substituters '' -A linuxKernel.kernels.linux_6_12.configfile
#   nix-build --option substituters '' -A linuxKernel.packages.linux_6_12
#   nix-build --option substituters '' -A nixosTests.kernel-generic.linux_6_12
#   nix-instantiate --eval -A linux_6_12.version          # the aliases of aliases.nix
#
# Mirrors (the convention kupdate's tests and `kupdate demo` rely on):
#
#   KUPDATE_KERNEL_MIRROR  base URL that stands in for kernel.org. Unset, the
#                          sources come from kernel.org itself:
#                            mirror://kernel/X           -> https://cdn.kernel.org/pub/X
#                            https://cdn.kernel.org/X    -> unchanged
#                            https://git.kernel.org/X    -> unchanged
#                          Set (e.g. to a kernelorgtest server), all three go there:
#                            mirror://kernel/X           -> $KUPDATE_KERNEL_MIRROR/pub/X
#                            https://cdn.kernel.org/X    -> $KUPDATE_KERNEL_MIRROR/X
#                            https://git.kernel.org/X    -> $KUPDATE_KERNEL_MIRROR/X
#                          so KUPDATE_KERNEL_MIRROR=http://127.0.0.1:PORT nix-build ...
#                          fetches linux-V.tar.xz from {PORT}/pub/linux/kernel/vN.x/ and
#                          rc snapshots from {PORT}/torvalds/t/linux-X.Y-rcN.tar.gz.
#   KUPDATE_GITHUB_MIRROR  the same for https://github.com/X (hardened patches,
#                          zen-kernel's tag tarballs).
#
# Nix reads these with builtins.getEnv, so evaluation is impure on purpose;
# no daemon, no sandbox and no substituter are needed. The rc snapshot of
# linux_testing is fetched (and its NAR hash checked) at evaluation time, see
# fetchzip below: evaluating linux_testing needs the mirror as well.
{
  config ? { },
}:

let
  lib = import ./lib;

  envOr =
    name: default:
    let
      v = builtins.getEnv name;
    in
    if v == "" then default else v;

  kernelMirror = builtins.getEnv "KUPDATE_KERNEL_MIRROR";
  githubMirror = envOr "KUPDATE_GITHUB_MIRROR" "https://github.com";

  hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
  dropPrefix = p: s: builtins.substring (builtins.stringLength p) (builtins.stringLength s) s;

  resolveURL =
    url:
    if hasPrefix "mirror://kernel/" url then
      (if kernelMirror == "" then "https://cdn.kernel.org/pub/" else kernelMirror + "/pub/")
      + dropPrefix "mirror://kernel/" url
    else if kernelMirror != "" && hasPrefix "https://cdn.kernel.org/" url then
      kernelMirror + "/" + dropPrefix "https://cdn.kernel.org/" url
    else if kernelMirror != "" && hasPrefix "https://git.kernel.org/" url then
      kernelMirror + "/" + dropPrefix "https://git.kernel.org/" url
    else if hasPrefix "https://github.com/" url then
      githubMirror + "/" + dropPrefix "https://github.com/" url
    else
      url;

  # fetchurl: the flat hash of the file, checked by Nix's builtin fetcher in a
  # fixed-output derivation, as in nixpkgs.
  fetchurl =
    {
      url,
      sha256 ? "",
      hash ? "",
      name ? baseNameOf url,
    }:
    import <nix/fetchurl.nix> {
      url = resolveURL url;
      inherit sha256 hash name;
    };

  # fetchzip: the NAR hash of the unpacked tree, top directory stripped (what
  # nix-prefetch-url --unpack prints). nixpkgs' fetchzip is a derivation;
  # Nix 2.8's builtin fetcher cannot unpack a tarball inside one without
  # tools from the host, so the sample uses builtins.fetchTarball, which
  # checks the same hash at evaluation time: evaluating linux_testing fetches
  # its snapshot (from KUPDATE_KERNEL_MIRROR when set).
  fetchzip =
    {
      url,
      hash ? "",
      sha256 ? hash,
      name ? "source",
    }:
    builtins.fetchTarball {
      url = resolveURL url;
      inherit sha256 name;
    };

  # fetchFromGitHub: the tag's tarball from github.com (KUPDATE_GITHUB_MIRROR
  # when set) through fetchzip, as in nixpkgs: the hash is checked when the
  # kernel is evaluated, so building it (or its drvPath) needs the mirror.
  fetchFromGitHub =
    {
      owner,
      repo,
      rev,
      hash ? "",
      sha256 ? hash,
    }:
    fetchzip {
      url = "https://github.com/${owner}/${repo}/archive/${rev}.tar.gz";
      inherit sha256;
    };

  callPackageWith =
    scope: fn: args:
    let
      f = if builtins.isFunction fn then fn else import fn;
    in
    f (builtins.intersectAttrs (builtins.functionArgs f) scope // args);

  allowAliases = config.allowAliases or true;

  pkgs = {
    inherit
      lib
      fetchurl
      fetchzip
      fetchFromGitHub
      pkgs
      ;
    config = {
      inherit allowAliases;
    };
    callPackage = callPackageWith pkgs;
    newScope = extra: callPackageWith (pkgs // extra);
    recurseIntoAttrs = attrs: attrs // { recurseForDerivations = true; };
    dontRecurseIntoAttrs = attrs: attrs // { recurseForDerivations = false; };
    makeOverridable = f: f;
    stdenv = { };
    stdenvNoCC = { };
    buildPackages = pkgs;

    buildLinux = pkgs.callPackage ./pkgs/os-specific/linux/kernel/generic.nix { };

    linuxKernel = pkgs.callPackage ./pkgs/top-level/linux-kernels.nix { };

    nixosTests = {
      kernel-generic = import ./nixos/tests/kernel-generic.nix { inherit pkgs lib; };
    };
  };

  aliases = import ./pkgs/top-level/aliases.nix lib pkgs pkgs;
in
if allowAliases then pkgs // aliases else pkgs
