# Stand-in for nixpkgs' nixos/tests/kernel-generic.nix: one "test" per
# kernel of linuxKernel.vanillaPackages (and linux_testing, the hardened
# kernels), named like them. The real one boots a VM; this one records the
# kernel it would boot.
{ pkgs, lib }:

let
  testsForKernel =
    name: kernel:
    derivation {
      name = "kernel-generic-${name}";
      system = builtins.currentSystem;
      builder = "/bin/sh";
      args = [
        "-c"
        "echo booted ${kernel} > $out"
      ];
    };

  isHardened = name: builtins.match ".*_hardened" name != null;

  kernels =
    pkgs.linuxKernel.vanillaPackages
    // lib.filterAttrs (name: _: isHardened name) pkgs.linuxKernel.packages
    // {
      inherit (pkgs.linuxKernel.packages)
        linux_testing
        linux_hardened
        ;
    };
in
lib.mapAttrs (name: p: testsForKernel name p.kernel) kernels
