# kupdate as nixpkgs would package it (pkgs/by-name/ku/kupdate/package.nix).
# In nixpkgs, `src` is
#
#   fetchFromGitHub {
#     owner = "kupdate";
#     repo = "kupdate";
#     tag = "v${finalAttrs.version}";
#     hash = "…";
#   };
#
# here it is this repository, so that default.nix and flake.nix build the
# checkout. vendorHash is the NAR hash of `go mod vendor`: after a change of
# go.mod or go.sum, `go run ./nix/vendorhash -w` writes it again, and
# `go test ./nix/...` fails while it is stale.
{
  lib,
  buildGoModule,
  gitMinimal,
  nix,
  makeWrapper,
  versionCheckHook,
}:

buildGoModule (finalAttrs: {
  pname = "kupdate";
  version = "0.1.0";

  src = lib.cleanSource ../.;

  vendorHash = "sha256-KMyqEH2Ybe2VjLr6Qy5TcEnN4cvBG4S5LqNySv1mWjw=";

  subPackages = [ "cmd/kupdate" ];

  env.CGO_ENABLED = 0;

  ldflags = [
    "-s"
    "-w"
    "-X main.Version=${finalAttrs.version}"
  ];

  nativeBuildInputs = [ makeWrapper ];

  # The tests run real git (smart HTTP through git http-backend) and real
  # Nix (evaluations and tiny builds of the sample tree, sources fetched from
  # loopback simulators). Nix gets a store of its own under $TMPDIR, as
  # Nix's own test suite does in the sandbox; the status-page test needs
  # chromium and skips without it.
  nativeCheckInputs = [
    gitMinimal
    nix
  ];

  preCheck = ''
    export HOME=$(mktemp -d)
    export NIX_STORE_DIR=$TMPDIR/nix/store
    export NIX_STATE_DIR=$TMPDIR/nix/var
    export NIX_LOG_DIR=$TMPDIR/nix/log
    export NIX_CONF_DIR=$TMPDIR/nix/etc
    mkdir -p $NIX_CONF_DIR
    echo "sandbox = false" > $NIX_CONF_DIR/nix.conf
  '';

  __darwinAllowLocalNetworking = true;

  # kupdate runs git and the build commands of its configuration (nix-build,
  # nix-instantiate). git comes first on PATH; Nix last, so that the Nix of
  # the machine (matching its daemon) is used when there is one.
  postInstall = ''
    wrapProgram $out/bin/kupdate \
      --prefix PATH : ${lib.makeBinPath [ gitMinimal ]} \
      --suffix PATH : ${lib.makeBinPath [ nix ]}
  '';

  nativeInstallCheckInputs = [ versionCheckHook ];
  versionCheckProgramArg = "--version";
  doInstallCheck = true;

  meta = {
    description = "Keeps the Linux kernels in nixpkgs current: polls kernel.org, updates, builds, opens pull requests";
    homepage = "https://github.com/kupdate/kupdate";
    license = lib.licenses.mit;
    maintainers = [ ];
    mainProgram = "kupdate";
    platforms = lib.platforms.unix;
  };
})
