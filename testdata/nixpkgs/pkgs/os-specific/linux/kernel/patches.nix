{
  lib,
  fetchurl,
}:

{
  bridge_stp_helper = {
    name = "bridge-stp-helper";
    patch = ./bridge-stp-helper.patch;
  };

  request_key_helper = {
    name = "request-key-helper";
    patch = ./request-key-helper.patch;
  };

  hardened =
    let
      mkPatch =
        kernelVersion:
        {
          version,
          sha256,
          patch,
        }:
        let
          src = patch;
        in
        {
          name = lib.removeSuffix ".patch" src.name;
          patch = fetchurl { inherit (src) name url sha256; };
          extra = src.extra;
          inherit version sha256;
        };
      patches = lib.importJSON ./hardened/patches.json;
    in
    lib.mapAttrs mkPatch patches;
}
