{
  description = "kupdate keeps the Linux kernels in nixpkgs current";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      forAllSystems = nixpkgs.lib.genAttrs [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
    in
    {
      packages = forAllSystems (system: rec {
        kupdate = nixpkgs.legacyPackages.${system}.callPackage ./nix/package.nix { };
        default = kupdate;
      });

      overlays.default = final: prev: { kupdate = final.callPackage ./nix/package.nix { }; };

      nixosModules.kupdate =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/module.nix ];
          # This flake's build, until nixpkgs has pkgs.kupdate.
          services.kupdate.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.kupdate;
        };
      nixosModules.default = self.nixosModules.kupdate;
    };
}
