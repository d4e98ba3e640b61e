{ config, pkgs, ... }:
let
  galliumSrc = pkgs.fetchFromGitHub {
    owner = "GalliumOS";
    repo = "linux";
    rev = "330fea63255fc7dafb0400ceded3b022554f3707";
    sha256 = "03xk8i338ahzq39nk30pzraymvckpdypmg8rrgbqi4qly6565nl4";
  };

  galliumKernel = pkgs.linuxPackages_custom {
    src = galliumSrc;
    version = "5.9.8";
    configfile = "${galliumSrc}/galliumos/config";
    allowImportFromDerivation = true;
  };
in
{
  boot.kernelPackages = galliumKernel;
}
