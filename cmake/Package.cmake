# The Debian package (CPack): `cpack -G DEB` in a build tree gives stopcall_<version>_<arch>.deb
# with the binaries, the systemd unit, sysusers and tmpfiles snippets, the bus configuration, the
# pages, the demo route and the documentation. `dpkg -i` then `systemctl enable --now stopcall`
# installs it on a bus. Build it from a Release tree (tools/package).

# What the package puts where (the executables install themselves: stopcall_executable).
include(GNUInstallDirs)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/stopcall.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/stopcall.sysusers
        DESTINATION lib/sysusers.d RENAME stopcall.conf)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/stopcall.tmpfiles
        DESTINATION lib/tmpfiles.d RENAME stopcall.conf)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/stopcall.toml DESTINATION /etc/stopcall)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/hmi/web/ DESTINATION share/stopcall/hmi/web)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/routes/demo/ DESTINATION share/stopcall/demo
        PATTERN "__pycache__" EXCLUDE)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/daemon/stopcall.example.toml
              ${PROJECT_SOURCE_DIR}/daemon/vehicle/CONTROL.md ${PROJECT_SOURCE_DIR}/hmi/PROTOCOL.md
        DESTINATION share/doc/stopcall)
install(FILES ${PROJECT_SOURCE_DIR}/routes/README.md DESTINATION share/doc/stopcall
        RENAME ROUTES.md)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME stopcall)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "stopcall maintainers <stopcall@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "stop announcements for accessible buses: voice, subtitles, ramp assist")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # library packages from dpkg-shlibdeps
# What the libraries do not pull in: GStreamer's plugins (audiomixer, wavenc, alsa), the voices,
# gpsd itself and systemd's tools used by postinst.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, espeak-ng-data, systemd")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gpsd, gstreamer1.0-alsa")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/systemd/debian/postinst ${PROJECT_SOURCE_DIR}/systemd/debian/prerm
    ${PROJECT_SOURCE_DIR}/systemd/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
