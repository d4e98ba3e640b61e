final: prev:
let
  version = "6.12.70";
  src = prev.fetchurl {
    url = "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-${version}.tar.xz";
    hash = "sha256-UO2fjxI1f0/jM84qgvpdGwT1qtc+FxvCc1kRZaxSAF8=";
  };
in
{
  linux_vm = prev.linuxManualConfig {
    inherit version src;
    modDirVersion = version;
    configfile = ./vm.config;
    allowImportFromDerivation = false;
  };
}
