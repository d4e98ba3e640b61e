# services.kupdate: kupdate as a NixOS service, in nixpkgs' module style
# (it could be proposed as nixos/modules/services/misc/kupdate.nix).
#
# Two modes: "serve" runs `kupdate serve` (cycles on settings.serve.schedule,
# webhooks, the status page and /metrics on settings.serve.listen); "timer"
# runs `kupdate run` once per startAt, as a oneshot unit and a timer.
#
# kupdate finds its directories in $STATE_DIRECTORY and $CACHE_DIRECTORY,
# which StateDirectory= and CacheDirectory= set: state.json, builds.json and
# the lock in /var/lib/kupdate, the managed clone and the caches in
# /var/cache/kupdate. Secrets reach it through environmentFile (the
# variables the *_env keys name) and githubAppPrivateKeyFile (a systemd
# credential), never through the Nix store.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  inherit (lib)
    mkEnableOption
    mkIf
    mkOption
    mkPackageOption
    types
    ;

  cfg = config.services.kupdate;
  settingsFormat = pkgs.formats.toml { };

  # Where systemd puts the credential githubAppPrivateKeyFile names.
  appKeyCredential = "/run/credentials/kupdate.service/github-app-key";

  # A Go duration, as kupdate reads serve.shutdown_timeout ("30s", "2m",
  # "1h30m", "1.5h").
  goDuration = types.strMatching "([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+";

  # The seconds of a goDuration, rounded up.
  goDurationSeconds =
    d:
    let
      units = {
        ns = 1.0e-9;
        us = 1.0e-6;
        "µs" = 1.0e-6;
        ms = 1.0e-3;
        s = 1;
        m = 60;
        h = 3600;
      };
      parts = builtins.filter builtins.isList (builtins.split "([0-9]+(\\.[0-9]+)?)(ns|us|µs|ms|s|m|h)" d);
    in
    builtins.ceil (
      lib.foldl' (
        sum: p: sum + builtins.fromJSON (builtins.elemAt p 0) * units.${builtins.elemAt p 2}
      ) 0 parts
    );

  # On SIGTERM `kupdate serve` lets a running cycle finish for
  # serve.shutdown_timeout, cancels it and exits within 15 s more; systemd
  # waits that and a margin before it sends SIGKILL.
  stopTimeout = goDurationSeconds cfg.settings.serve.shutdown_timeout + 30;

  generatedConfig = settingsFormat.generate "kupdate.toml" cfg.settings;

  # kupdate reads the file as the service will, and refuses it at build time
  # where it would refuse it at start: unknown keys, bad values, a secret
  # written into it.
  validatedConfig =
    pkgs.runCommand "kupdate-config.toml"
      {
        nativeBuildInputs = [ cfg.package ];
        preferLocalBuild = true;
      }
      ''
        STATE_DIRECTORY=/var/lib/kupdate CACHE_DIRECTORY=/var/cache/kupdate \
          kupdate --config ${generatedConfig} config
        cp ${generatedConfig} $out
      '';

  command = if cfg.mode == "serve" then "serve" else "run";
in
{
  options.services.kupdate = {
    enable = mkEnableOption "kupdate, which keeps the Linux kernels in nixpkgs current";

    package = mkPackageOption pkgs "kupdate" { };

    mode = mkOption {
      type = types.enum [
        "serve"
        "timer"
      ];
      default = "serve";
      description = ''
        `serve`: a long-running `kupdate serve` (cycles on
        {option}`services.kupdate.settings.serve.schedule`, GitHub webhooks,
        the status page and `/metrics`). `timer`: `kupdate run` once per
        {option}`services.kupdate.startAt`, as a oneshot unit and a timer.
      '';
    };

    startAt = mkOption {
      type = types.str;
      default = "hourly";
      example = "*:17";
      description = ''
        When `kupdate run` starts in the `timer` mode, as a systemd calendar
        event (see {manpage}`systemd.time(7)`).
      '';
    };

    settings = mkOption {
      type = types.submodule {
        freeformType = settingsFormat.type;
        options.serve = mkOption {
          type = types.submodule {
            freeformType = settingsFormat.type;
            options = {
              listen = mkOption {
                type = types.str;
                default = "127.0.0.1:8380";
                description = "Address of the status page, `/metrics`, `/healthz` and `/webhook` (`host:port`).";
              };
              shutdown_timeout = mkOption {
                type = goDuration;
                default = "30s";
                description = ''
                  How long SIGTERM lets a running cycle finish before kupdate
                  cancels it, as a Go duration; the unit's `TimeoutStopSec=` is
                  this and 30 s more.
                '';
              };
            };
          };
          default = { };
          description = "The `[serve]` table.";
        };
      };
      default = { };
      example = {
        nixpkgs.fork = "https://github.com/kupdate-bot/nixpkgs.git";
        github = {
          fork_owner = "kupdate-bot";
          reviewers = [ "alice" ];
        };
        build.tiers = [
          "eval"
          "configfile"
          "kernel"
        ];
      };
      description = ''
        kupdate's config.toml, with the same tables and keys (see kupdate's
        README, Configuration); what is not set keeps kupdate's default. It
        is checked with `kupdate config` when the system is built. Secrets
        never go here: set {option}`services.kupdate.environmentFile` and
        {option}`services.kupdate.githubAppPrivateKeyFile`.
      '';
    };

    configFile = mkOption {
      type = types.path;
      default = validatedConfig;
      defaultText = lib.literalMD "{option}`services.kupdate.settings` as TOML, checked with `kupdate config`";
      description = "The config.toml kupdate reads.";
    };

    environmentFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/secrets/kupdate.env";
      description = ''
        A file of `NAME=value` lines with the secrets the `*_env` keys name
        (by default `GITHUB_TOKEN`, `KUPDATE_GIT_TOKEN`,
        `KUPDATE_WEBHOOK_SECRET`), read by systemd (`EnvironmentFile=`), so
        it may be readable by root only. kupdate never hands them to Nix or
        git.
      '';
    };

    githubAppPrivateKeyFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/secrets/kupdate-app.pem";
      description = ''
        The PEM private key of a GitHub App (with `github.app_id` and
        `github.installation_id` in {option}`services.kupdate.settings`).
        systemd hands it to kupdate as a credential (`LoadCredential=`), and
        `github.private_key_file` points there.
      '';
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = !(cfg.settings ? nixpkgs && (cfg.settings.nixpkgs ? cache_dir || cfg.settings.nixpkgs ? state_dir));
        message = "services.kupdate.settings.nixpkgs: leave cache_dir and state_dir unset: the unit's StateDirectory= and CacheDirectory= are the only places kupdate may write (ProtectSystem=strict).";
      }
    ];

    services.kupdate.settings = mkIf (cfg.githubAppPrivateKeyFile != null) {
      github.private_key_file = appKeyCredential;
    };

    # Builds go to the Nix daemon as the unit's user.
    nix.settings.extra-allowed-users = [ "kupdate" ];

    systemd.services.kupdate = {
      description = "kupdate: keeps the Linux kernels in nixpkgs current";
      documentation = [ "https://github.com/kupdate/kupdate#readme" ];
      wants = [ "network-online.target" ];
      requires = [ "nix-daemon.socket" ];
      after = [
        "network-online.target"
        "nix-daemon.socket"
      ];
      wantedBy = lib.optional (cfg.mode == "serve") "multi-user.target";
      # The build commands (nix-build, nix-instantiate) and git.
      path = [
        config.nix.package
        pkgs.gitMinimal
      ];
      environment = {
        # Nix's and git's own caches and configuration; kupdate's state and
        # caches are in $STATE_DIRECTORY and $CACHE_DIRECTORY.
        HOME = "/var/lib/kupdate";
        NIX_REMOTE = "daemon";
      };

      serviceConfig = {
        Type = if cfg.mode == "serve" then "exec" else "oneshot";
        ExecStart = "${lib.getExe cfg.package} --config ${cfg.configFile} ${command}";
        EnvironmentFile = lib.optional (cfg.environmentFile != null) cfg.environmentFile;
        LoadCredential = lib.optional (cfg.githubAppPrivateKeyFile != null) "github-app-key:${cfg.githubAppPrivateKeyFile}";

        User = "kupdate";
        Group = "kupdate";
        DynamicUser = true;
        StateDirectory = "kupdate";
        StateDirectoryMode = "0700";
        CacheDirectory = "kupdate";
        CacheDirectoryMode = "0700";
        UMask = "0077";

        TimeoutStopSec = stopTimeout;

        # Hardening. kupdate talks HTTPS to kernel.org and GitHub, git over
        # HTTPS, and Nix through the daemon's socket; it writes only its two
        # directories and /tmp. Not MemoryDenyWriteExecute: it would hold
        # for the Nix evaluator kupdate runs too, which does not promise it.
        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectClock = true;
        ProtectHostname = true;
        ProtectProc = "invisible";
        RestrictAddressFamilies = [
          "AF_UNIX"
          "AF_INET"
          "AF_INET6"
        ];
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        CapabilityBoundingSet = "";
        AmbientCapabilities = "";
        SystemCallArchitectures = "native";
        SystemCallFilter = [
          "@system-service"
          "~@privileged"
        ];
        SystemCallErrorNumber = "EPERM";
      }
      // lib.optionalAttrs (cfg.mode == "serve") {
        # A service that died is started again; one that exits 2 (a bad
        # configuration) would only fail the same way. A failed cycle does
        # not end the service, and in the timer mode the next run is the
        # timer's.
        Restart = "on-failure";
        RestartSec = "30s";
        RestartPreventExitStatus = 2;
      };
    };

    systemd.timers.kupdate = mkIf (cfg.mode == "timer") {
      description = "kupdate run, on a schedule";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = cfg.startAt;
        # A run missed while the machine was off happens at boot; many
        # machines do not all ask kernel.org at the same second.
        Persistent = true;
        RandomizedDelaySec = "5m";
      };
    };
  };
}
