# A stand-in for a nixpkgs tree with the attribute paths kupdate builds
# (linuxKernel.kernels.<attr>, its .configfile, nixosTests.kernel-generic.<attr>),
# each a derivation that takes a moment instead of hours. It needs nothing but
# /bin/sh and coreutils: no nixpkgs, no network.
#
#   nonce:  makes every derivation of a run new, so Nix builds instead of reusing
#   marker: how long the slow derivations sleep; unique per test, so a test can
#           find their processes in /proc by their command line
{ nonce ? "", marker ? "300" }:
let
  sh = name: script: builtins.derivation {
    name = "kupdate-test-${name}";
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" script ];
    PATH = "/usr/bin:/bin";
    inherit nonce;
  };
  ok = name: sh name "echo building ${name}; echo ${name} > $out";
  # A kernel: the derivation itself, with its .config as an attribute, as in nixpkgs.
  kernel = name: { config ? ok "${name}-config", build ? ok name }:
    build // { configfile = config; };
  sleeper = name: sh name "sleep ${marker} & sleep ${marker}; echo > $out";
  sleepOne = name: sh name "sleep 1; echo ${name} > $out";

  benchAttrs = builtins.genList (i: "linux_bench_${toString (i + 1)}") 6;
  bench = builtins.listToAttrs (map (a: { name = a; value = kernel a { build = sleepOne a; }; }) benchAttrs);
in
{
  linuxKernel.kernels = {
    linux_pass = kernel "linux_pass" { };

    # Its .config fails with known output; its kernel and test must be skipped.
    linux_fail = kernel "linux_fail" {
      config = sh "linux_fail-config" ''
        echo "generating .config for linux_fail"
        echo "error: option CONFIG_KUPDATE_TEST_GONE is not set correctly" >&2
        exit 2
      '';
    };

    # Its kernel fails because a dependency does: the dependency is to blame.
    linux_depfail = kernel "linux_depfail" {
      build = sh "linux_depfail" "cat ${sh "linux_depfail-patch" "echo patch does not apply; exit 1"} > $out";
    };

    linux_evalfail = throw "linux_evalfail: this attribute fails to evaluate";

    # Evaluates only with KUPDATE_TEST_ENV=yes in the environment.
    linux_env =
      if builtins.getEnv "KUPDATE_TEST_ENV" == "yes" then kernel "linux_env" { }
      else throw "linux_env: KUPDATE_TEST_ENV is not yes";

    # Its .config sleeps for `marker` seconds, in a builder that also leaves a
    # background process behind.
    linux_slow = kernel "linux_slow" { config = sleeper "linux_slow-config"; };

    # One kernel with six dependencies of one second each: max-jobs at work.
    linux_bench_deps = kernel "linux_bench_deps" {
      build = sh "linux_bench_deps"
        ("cat " + toString (map (a: sleepOne "${a}-dep") benchAttrs) + " > $out");
    };
  } // bench;

  nixosTests.kernel-generic = {
    linux_pass = ok "linux_pass-test";
    linux_depfail = ok "linux_depfail-test";
  } // builtins.mapAttrs (a: _: ok "${a}-test") bench;
}
