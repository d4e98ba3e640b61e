# kupdate without flakes.
#
#   nix-build -A kupdate          # ./result/bin/kupdate
#
# and in a NixOS configuration:
#
#   imports = [ (import /path/to/kupdate { inherit pkgs; }).nixosModules.kupdate ];
#   services.kupdate.enable = true;
{
  pkgs ? import <nixpkgs> { },
}:

rec {
  kupdate = pkgs.callPackage ./nix/package.nix { };

  nixosModules.kupdate =
    { lib, ... }:
    {
      imports = [ ./nix/module.nix ];
      # This repository's build, until nixpkgs has pkgs.kupdate.
      services.kupdate.package = lib.mkDefault kupdate;
    };
}
