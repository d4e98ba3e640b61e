# The few nixpkgs lib functions the sample tree uses, with nixpkgs' names
# and meaning (a small subset; see nixpkgs' lib/ for the real ones).
let
  lib = {
    optionalAttrs = cond: as: if cond then as else { };

    mapAttrs = builtins.mapAttrs;

    makeExtensible =
      rattrs:
      let
        self = rattrs self;
      in
      self;

    filterAttrs =
      pred: set:
      builtins.listToAttrs (
        builtins.concatMap (
          name:
          let
            v = set.${name};
          in
          if pred name v then [ { inherit name; value = v; } ] else [ ]
        ) (builtins.attrNames set)
      );

    importJSON = path: builtins.fromJSON (builtins.readFile path);

    removeSuffix =
      suffix: s:
      let
        n = builtins.stringLength s;
        k = builtins.stringLength suffix;
      in
      if k <= n && builtins.substring (n - k) k s == suffix then builtins.substring 0 (n - k) s else s;

    versionAtLeast = v1: v2: builtins.compareVersions v1 v2 >= 0;

    versionOlder = v1: v2: builtins.compareVersions v1 v2 < 0;

    versions = {
      major = v: builtins.elemAt (builtins.splitVersion v) 0;
      majorMinor =
        v:
        let
          parts = builtins.splitVersion v;
        in
        "${builtins.elemAt parts 0}.${builtins.elemAt parts 1}";
      # pad 3 "6.17" = "6.17.0", pad 3 "6.19-rc4" = "6.19.0-rc4"
      pad =
        n: version:
        let
          numeric = builtins.head (builtins.match "([0-9.]*)(.*)" version);
          suffix = builtins.elemAt (builtins.match "([0-9.]*)(.*)" version) 1;
          parts = builtins.filter builtins.isString (builtins.split "\\." numeric);
          padded = parts ++ builtins.genList (_: "0") (n - builtins.length parts);
        in
        builtins.concatStringsSep "." (builtins.genList (i: builtins.elemAt padded i) n) + suffix;
    };
  };
in
lib
