{ pkgs, ... }:
{
  boot.kernelPackages = pkgs.linuxPackages_custom {
    version = "4.4.0-rc5";
    src = pkgs.fetchurl {
      url = "mirror://kernel/linux/kernel/v4.x/testing/linux-4.4-rc5.tar.xz";
      sha256 = "0qr1a8nmq6csbsw4cbqnn3m37a0fapj7a7cm9vj7fy7kq1rgxkpb";
    };
    configfile = /etc/nixos/kernel-4.4.0-rc5/kernel-4.4.0-rc5.config;
  };
}
