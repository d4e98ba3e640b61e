# Evaluates nix/module.nix with nixpkgs' real lib (lib.evalModules) and
# stand-ins for what is not in lib: the NixOS options the module sets,
# declared loosely, and the few packages and builders of pkgs it uses.
# nix_test.go runs it with nix-instantiate --eval --strict --json and checks
# the unit kupdate gets.
{
  lib, # nixpkgs' lib/ directory
  services ? "{}", # services.kupdate as JSON
}:

let
  lib' = import lib;
  inherit (lib') types mkOption;

  loose =
    default:
    mkOption {
      type = types.anything;
      inherit default;
    };

  fakeDrv =
    name: extra:
    extra
    // {
      type = "derivation";
      inherit name;
      outPath = "/nix/store/${builtins.substring 0 32 (builtins.hashString "sha256" name)}-${name}";
    };

  # nixpkgs' pkgs.formats.toml: its type (a TOML value) and generate, which
  # here keeps the settings to look at instead of writing them.
  tomlFormat =
    { }:
    {
      type =
        let
          valueType =
            types.nullOr (
              types.oneOf [
                types.bool
                types.int
                types.float
                types.str
                types.path
                (types.attrsOf valueType)
                (types.listOf valueType)
              ]
            )
            // {
              description = "TOML value";
            };
        in
        valueType;
      generate = name: value: fakeDrv name { settings = value; };
    };

  pkgs = {
    kupdate = fakeDrv "kupdate-0.1.0" { meta.mainProgram = "kupdate"; };
    gitMinimal = fakeDrv "git-minimal-2.51.0" { };
    formats.toml = tomlFormat;
    runCommand = name: env: script: fakeDrv name { inherit env script; };
  };

  nixosStandIns = {
    options = {
      assertions = loose [ ];
      systemd.services = loose { };
      systemd.timers = loose { };
      nix.settings = loose { };
      nix.package = loose (fakeDrv "nix-2.31.0" { });
    };
  };

  eval = lib'.evalModules {
    modules = [
      nixosStandIns
      ../module.nix
      { services.kupdate = builtins.fromJSON services; }
    ];
    specialArgs = { inherit pkgs; };
  };

  inherit (eval) config;
  cfg = config.services.kupdate;
  failed = builtins.filter (a: !a.assertion) config.assertions;
in
{
  assertions = map (a: a.message) failed;
  service = config.systemd.services.kupdate or null;
  timer = config.systemd.timers.kupdate or null;
  nix = config.nix.settings;
  settings = cfg.settings;
  configFile =
    if cfg.configFile ? script then
      {
        inherit (cfg.configFile) name script;
        nativeBuildInputs = map toString cfg.configFile.env.nativeBuildInputs;
        generated = toString ((tomlFormat { }).generate "kupdate.toml" cfg.settings);
      }
    else
      toString cfg.configFile;
}
