{ config, pkgs, ... }:
{
  boot.kernelPackages = pkgs.linuxPackages_6_1;
  boot.kernelParams = [ "quiet" ];
}
