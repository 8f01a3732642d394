#!/usr/bin/env bash
# Install calfbot as a systemd service on Debian 12 or Ubuntu 24.04 (as root),
# from the checkout this script sits in. Running it again upgrades in place and
# keeps the data, the settings and the token. See deploy/README.md.
#
#   deploy/install.sh               install, or upgrade
#   deploy/install.sh --uninstall   remove the service and the code; keep data, settings and token
#   deploy/install.sh --purge       remove all of it: also data, settings, token and the calfbot user
#
# The bot token comes from $TELEGRAM_BOT_TOKEN, else the one already installed,
# else a prompt (only when standard input is a terminal; otherwise it is an error).
# It is stored in /etc/calfbot/telegram_bot_token (root only, mode 0600) and never printed.
#
# Environment:
#   TELEGRAM_BOT_TOKEN                  the token to install (replaces the installed one)
#   CALFBOT_INSTALL_WATCH_SECONDS=8     how long to watch the service after starting it
if [ -z "${BASH_VERSION:-}" ]; then
    echo "calfbot install: error: run me with bash (deploy/install.sh), not sh" >&2
    exit 1
fi
set -euo pipefail
# The code must be readable by the service user, whatever root's umask is;
# the secrets are created with explicit modes.
umask 022

readonly SERVICE_USER=calfbot
readonly PREFIX=/opt/calfbot
readonly RELEASES=$PREFIX/releases
readonly VENV=$PREFIX/venv
readonly CONFIG_DIR=/etc/calfbot
readonly ENV_FILE=$CONFIG_DIR/calfbot.env
readonly TOKEN_FILE=$CONFIG_DIR/telegram_bot_token
readonly DATA_DIR=/var/lib/calfbot
readonly UNIT_DIR=/etc/systemd/system
readonly SERVICE=calfbot.service
readonly TIMER=calfbot-backup.timer
readonly UNITS=(calfbot.service calfbot-backup.service calfbot-backup.timer)
readonly ADMIN_COMMAND=/usr/local/bin/calfbot
# procps: /bin/kill for ExecReload; ca-certificates: HTTPS to Telegram and PyPI.
readonly OS_PACKAGES=(python3 python3-venv ca-certificates tzdata procps)
readonly TOKEN_PATTERN='^[0-9]{3,20}:[A-Za-z0-9_-]{30,64}$'

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE=$(dirname "$HERE")
readonly HERE SOURCE

say() { printf 'calfbot install: %s\n' "$*"; }
die() {
    printf 'calfbot install: error: %s\n' "$*" >&2
    exit 1
}

usage() {
    # The comment at the top of this file.
    sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"
}

# --- checks -----------------------------------------------------------------

require_root() {
    [ "$(id -u)" -eq 0 ] || die "run me as root (sudo $0)"
}

require_systemd_tools() {
    command -v systemctl >/dev/null 2>&1 || die "systemctl not found: calfbot runs as a systemd service"
}

check_os() {
    local id="" version=""
    if [ -r /etc/os-release ]; then
        # shellcheck disable=SC1091
        id=$(. /etc/os-release && printf '%s' "${ID:-}")
        # shellcheck disable=SC1091
        version=$(. /etc/os-release && printf '%s' "${VERSION_ID:-}")
    fi
    case "$id $version" in
        "debian 12" | "ubuntu 24.04") ;;
        *) say "warning: made for Debian 12 and Ubuntu 24.04, this is '${id:-unknown} ${version:-}'; trying anyway" ;;
    esac
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this installer is for Debian and Ubuntu"
}

check_source() {
    if [ ! -f "$SOURCE/pyproject.toml" ] || [ ! -d "$SOURCE/bot" ]; then
        die "$SOURCE does not look like a calfbot checkout (no pyproject.toml and bot/): run the install.sh inside one"
    fi
    local unit
    for unit in "${UNITS[@]}"; do
        [ -f "$HERE/$unit" ] || die "$HERE/$unit is missing from the checkout"
    done
}

# --- the token ---------------------------------------------------------------

# Sets TOKEN (a shell variable, never exported) to the new token, or leaves it
# empty when the installed token is kept.
TOKEN=""
resolve_token() {
    if [ -n "${TELEGRAM_BOT_TOKEN:-}" ]; then
        TOKEN=$TELEGRAM_BOT_TOKEN
        # Not for apt, pip or the bot's child processes.
        unset TELEGRAM_BOT_TOKEN
    elif [ -s "$TOKEN_FILE" ]; then
        return 0
    elif [ -t 0 ]; then
        read -r -s -p "Telegram bot token (from @BotFather; it is not shown): " TOKEN
        printf '\n' >&2
        [ -n "$TOKEN" ] || die "no token given"
    else
        die "no bot token: set TELEGRAM_BOT_TOKEN in the environment (standard input is not a terminal, so I cannot ask)"
    fi
    TOKEN=${TOKEN//[[:space:]]/}
    [[ $TOKEN =~ $TOKEN_PATTERN ]] ||
        die "the bot token is malformed: expected digits, a colon and about 35 letters, digits, _ or - (as @BotFather gives it)"
}

write_token() {
    if [ -z "$TOKEN" ]; then
        say "keeping the installed bot token ($TOKEN_FILE)"
        return 0
    fi
    local temporary
    temporary=$(mktemp "$CONFIG_DIR/.telegram_bot_token.XXXXXX")
    # printf is a builtin: the token is never on a command line.
    printf '%s\n' "$TOKEN" >"$temporary"
    chown root:root "$temporary"
    chmod 0600 "$temporary"
    mv -f "$temporary" "$TOKEN_FILE"
    TOKEN=""
    say "stored the bot token in $TOKEN_FILE (root only)"
}

# --- packages, user, directories -----------------------------------------------

install_os_packages() {
    local missing=() package
    for package in "${OS_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${db:Status-Status}\n' "$package" 2>/dev/null | grep -qx installed; then
            missing+=("$package")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        say "OS packages present: ${OS_PACKAGES[*]}"
        return 0
    fi
    say "installing OS packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed (see above)"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        die "apt-get install ${missing[*]} failed (see above)"
}

check_python() {
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "calfbot needs Python 3.11 or newer; python3 is $(python3 --version 2>&1)"
    python3 -c 'import ensurepip, venv' 2>/dev/null || die "python3 cannot make virtual environments (python3-venv)"
}

create_user() {
    if id -u "$SERVICE_USER" >/dev/null 2>&1; then
        return 0
    fi
    useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
        --shell /usr/sbin/nologin --comment "calfbot Telegram bot" "$SERVICE_USER"
    say "created the system user $SERVICE_USER"
}

create_directories() {
    install -d -o root -g root -m 0700 "$CONFIG_DIR"
    install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0750 "$DATA_DIR"
    # Files a root shell left behind (say, a database made by hand) must stay usable.
    chown -R "$SERVICE_USER:$SERVICE_USER" "$DATA_DIR"
    install -d -o root -g root -m 0755 "$PREFIX" "$RELEASES"
}

write_env_file() {
    if [ -e "$ENV_FILE" ]; then
        say "keeping the settings in $ENV_FILE"
    else
        install -o root -g root -m 0600 "$HERE/calfbot.env" "$ENV_FILE"
        say "wrote default settings to $ENV_FILE"
    fi
    # The shipped defaults, to compare with after an upgrade.
    install -o root -g root -m 0600 "$HERE/calfbot.env" "$ENV_FILE.dist"
}

# --- the code ------------------------------------------------------------------

# A new virtual environment per install, switched to with one rename of the
# $VENV symlink: a failed upgrade leaves the running version untouched.
install_release() {
    local release
    release=$RELEASES/$(date -u +%Y%m%dT%H%M%SZ)
    [ ! -e "$release" ] || release=$release-$$
    say "installing calfbot from $SOURCE into $release (a minute or two)"
    python3 -m venv "$release"
    if ! "$release/bin/pip" install --quiet --no-input --disable-pip-version-check "$SOURCE"; then
        rm -rf "$release"
        die "pip install $SOURCE failed (see above); the installed version is unchanged"
    fi
    if ! (cd / && runuser -u "$SERVICE_USER" -- "$release/bin/calfbot" check-content >/dev/null); then
        rm -rf "$release"
        die "the new version fails 'calfbot check-content' (see above); the installed version is unchanged"
    fi
    ln -sfn "releases/${release##*/}" "$VENV.new"
    mv -T "$VENV.new" "$VENV"
    say "installed $("$VENV/bin/python" -c 'from importlib.metadata import version; print("calfbot", version("calfbot"))')"
    prune_releases "$release"
}

# Keep the current release and the one before it.
prune_releases() {
    local current=$1 releases=() index
    for index in "$RELEASES"/*/; do
        [ -d "$index" ] && releases+=("${index%/}")
    done
    for ((index = 0; index < ${#releases[@]} - 2; index++)); do
        [ "${releases[index]}" = "$current" ] || rm -rf "${releases[index]}"
    done
}

install_admin_command() {
    install -o root -g root -m 0755 "$HERE/calfbot-admin.sh" "$ADMIN_COMMAND"
}

install_units() {
    local unit
    for unit in "${UNITS[@]}"; do
        install -o root -g root -m 0644 "$HERE/$unit" "$UNIT_DIR/$unit"
    done
    systemctl daemon-reload
}

# On an upgrade the old version stops before the new one migrates the
# database (a few seconds without the bot; updates wait at Telegram).
WAS_RUNNING=0
stop_for_upgrade() {
    if systemctl is-active --quiet "$SERVICE"; then
        WAS_RUNNING=1
        say "stopping $SERVICE for the upgrade"
        systemctl stop "$SERVICE"
    fi
}

migrate() {
    say "migrating the database"
    if ! "$ADMIN_COMMAND" db upgrade; then
        [ "$WAS_RUNNING" -eq 0 ] || say "$SERVICE stays stopped: fix the cause and run me again"
        die "calfbot db upgrade failed (see above): check DATABASE_URL in $ENV_FILE"
    fi
}

# --- the service ---------------------------------------------------------------

start_service() {
    # A unit that gave up (start-limit-hit) or waits to restart starts afresh.
    systemctl reset-failed "$SERVICE" 2>/dev/null || true
    systemctl enable --now "$SERVICE" "$TIMER"
    if [ "$WAS_RUNNING" -eq 1 ]; then
        say "started $SERVICE on the new version"
    else
        say "enabled and started $SERVICE and $TIMER"
    fi
}

# Type=simple is "active" as soon as it forks; a bad token or an unreachable
# Telegram makes the bot exit within seconds, so watch it for a few.
watch_service() {
    local seconds=${CALFBOT_INSTALL_WATCH_SECONDS:-8} second state
    for ((second = 0; second < seconds; second++)); do
        sleep 1
        state=$(systemctl is-active "$SERVICE" || true)
        if [ "$state" != active ]; then
            printf 'calfbot install: error: %s is %s, not running; its last log lines:\n' "$SERVICE" "$state" >&2
            journalctl -u "$SERVICE" -n 20 --no-pager -o cat >&2 || true
            die "fix the cause (a wrong token: TELEGRAM_BOT_TOKEN=... $0; settings: $ENV_FILE), then run me again"
        fi
    done
}

install_or_upgrade() {
    check_os
    check_source
    resolve_token
    install_os_packages
    check_python
    create_user
    create_directories
    write_token
    write_env_file
    install_release
    install_admin_command
    install_units
    stop_for_upgrade
    migrate
    start_service
    watch_service
    say "done: calfbot is running. Logs: journalctl -u calfbot -f; admin commands: calfbot --help"
}

# --- removal ---------------------------------------------------------------------

uninstall() {
    local purge=$1 unit
    say "stopping and removing the service"
    systemctl disable --now "$TIMER" "$SERVICE" 2>/dev/null || true
    systemctl stop calfbot-backup.service 2>/dev/null || true
    for unit in "${UNITS[@]}"; do
        rm -f "$UNIT_DIR/$unit"
    done
    systemctl daemon-reload
    systemctl reset-failed "${UNITS[@]}" 2>/dev/null || true
    rm -f "$ADMIN_COMMAND"
    rm -rf "$PREFIX"
    if [ "$purge" -eq 0 ]; then
        say "removed; kept the data ($DATA_DIR), settings and token ($CONFIG_DIR) and the user $SERVICE_USER"
        say "(install.sh brings it back as it was; install.sh --purge removes those too)"
        return 0
    fi
    rm -rf "$DATA_DIR" "$CONFIG_DIR"
    if id -u "$SERVICE_USER" >/dev/null 2>&1; then
        userdel "$SERVICE_USER"
    fi
    if getent group "$SERVICE_USER" >/dev/null 2>&1; then
        groupdel "$SERVICE_USER"
    fi
    say "purged: removed $DATA_DIR, $CONFIG_DIR and the user $SERVICE_USER"
    say "(a PostgreSQL database named in DATABASE_URL is not touched)"
}

main() {
    local mode=install
    while [ "$#" -gt 0 ]; do
        case $1 in
            --uninstall) [ "$mode" = purge ] || mode=uninstall ;;
            --purge) mode=purge ;;
            -h | --help)
                usage
                return 0
                ;;
            *) die "unknown argument '$1' (try --help)" ;;
        esac
        shift
    done
    require_root
    require_systemd_tools
    case $mode in
        install) install_or_upgrade ;;
        uninstall) uninstall 0 ;;
        purge) uninstall 1 ;;
    esac
}

main "$@"
