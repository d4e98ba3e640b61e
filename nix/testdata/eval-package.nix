# Evaluates nix/package.nix, default.nix and flake.nix with nixpkgs' real
# lib and a stand-in for buildGoModule that returns the attributes it is
# given (with finalAttrs), so nix_test.go can check them without nixpkgs.
# Nothing here builds, and src is never read.
{
  lib, # nixpkgs' lib/ directory
}:

let
  lib' = import lib;

  fakeDrv = name: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/${builtins.substring 0 32 (builtins.hashString "sha256" name)}-${name}";
  };

  buildGoModule =
    f:
    let
      attrs = f attrs;
    in
    attrs
    // rec {
      type = "derivation";
      name = "${attrs.pname}-${attrs.version}";
      outPath = "/nix/store/00000000000000000000000000000000-${name}";
    };

  pkgs = {
    lib = lib';
    inherit buildGoModule;
    gitMinimal = fakeDrv "git-minimal";
    nix = fakeDrv "nix";
    makeWrapper = fakeDrv "make-wrapper-hook";
    versionCheckHook = fakeDrv "version-check-hook";
    stdenv.hostPlatform.system = "x86_64-linux";
    callPackage =
      path: overrides:
      let
        f = import path;
      in
      f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // overrides);
  };

  package = pkgs.callPackage ../package.nix { };

  fromDefault = import ../../default.nix { inherit pkgs; };

  flake = (import ../../flake.nix).outputs {
    self = flake;
    nixpkgs = {
      lib = lib';
      legacyPackages = lib'.genAttrs [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ] (_: pkgs);
    };
  };

  # The package a NixOS configuration gets from a module of default.nix or
  # the flake, without pkgs.kupdate in nixpkgs.
  modulePackage =
    module:
    (lib'.evalModules {
      modules = [
        module
        {
          options = {
            assertions = lib'.mkOption { type = lib'.types.anything; };
            systemd = lib'.mkOption { type = lib'.types.anything; };
            nix = lib'.mkOption { type = lib'.types.anything; };
          };
        }
      ];
      specialArgs = { inherit pkgs; };
    }).config.services.kupdate.package.name;
in
{
  inherit (package)
    pname
    version
    vendorHash
    subPackages
    ldflags
    doInstallCheck
    versionCheckProgramArg
    ;
  nativeCheckInputs = map (p: p.name) package.nativeCheckInputs;
  nativeInstallCheckInputs = map (p: p.name) package.nativeInstallCheckInputs;
  meta = {
    inherit (package.meta) mainProgram homepage description;
    license = package.meta.license.spdxId;
    platforms = package.meta.platforms == lib'.platforms.unix;
  };
  default = {
    kupdate = fromDefault.kupdate.name;
    module = modulePackage fromDefault.nixosModules.kupdate;
  };
  flake = {
    packages = builtins.attrNames flake.packages;
    default = flake.packages.x86_64-linux.default.pname;
    module = modulePackage flake.nixosModules.default;
    overlay = (flake.overlays.default pkgs pkgs).kupdate.pname;
  };
}
