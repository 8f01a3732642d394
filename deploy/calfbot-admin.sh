#!/usr/bin/env bash
# /usr/local/bin/calfbot (installed by deploy/install.sh): run a calfbot command
# the way the service runs: as the calfbot user, in /var/lib/calfbot, with the
# settings from /etc/calfbot/calfbot.env and the bot token as a credential
# ($CREDENTIALS_DIRECTORY/telegram_bot_token, a copy removed afterwards).
#
#   sudo calfbot stats
#   sudo calfbot backup
#   sudo systemctl stop calfbot
#   sudo calfbot restore backups/<file>      (paths are relative to /var/lib/calfbot)
#   sudo systemctl start calfbot
set -euo pipefail

readonly SERVICE_USER=calfbot
readonly CALFBOT=/opt/calfbot/venv/bin/calfbot
readonly ENV_FILE=/etc/calfbot/calfbot.env
readonly TOKEN_FILE=/etc/calfbot/telegram_bot_token
readonly DATA_DIR=/var/lib/calfbot

die() {
    printf 'calfbot: %s\n' "$*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "run me as root (sudo calfbot ...): the settings are readable by root only"
[ -x "$CALFBOT" ] || die "$CALFBOT is missing: install calfbot with deploy/install.sh"
[ -d "$DATA_DIR" ] || die "$DATA_DIR is missing: run deploy/install.sh again"

# As calfbot.service sets them: Environment= first, then EnvironmentFile= over it.
environment=(
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    "HOME=$DATA_DIR" "USER=$SERVICE_USER" "LOGNAME=$SERVICE_USER" "LANG=C.UTF-8"
    "CALFBOT_DATA_DIR=$DATA_DIR" "PYTHONUNBUFFERED=1"
)
[ -z "${TERM:-}" ] || environment+=("TERM=$TERM")

# The env file in systemd's EnvironmentFile= form, the part of it we write:
# KEY=value lines, comments starting with # or ;, values optionally quoted.
if [ -e "$ENV_FILE" ]; then
    number=0
    while IFS= read -r line || [ -n "$line" ]; do
        number=$((number + 1))
        line=${line#"${line%%[![:space:]]*}"}
        case $line in
            '' | '#'* | ';'*) continue ;;
        esac
        key=${line%%=*}
        key=${key%"${key##*[![:space:]]}"}
        [[ $line == *=* && $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
            die "$ENV_FILE line $number is not KEY=value"
        value=${line#*=}
        value=${value#"${value%%[![:space:]]*}"}
        value=${value%"${value##*[![:space:]]}"}
        if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then
            value=${BASH_REMATCH[1]}
        fi
        environment+=("$key=$value")
    done <"$ENV_FILE"
fi

# The token, as LoadCredential= passes it: a private copy only the calfbot user can read.
if [ -s "$TOKEN_FILE" ]; then
    credentials=$(mktemp -d -p /run calfbot-credentials.XXXXXX)
    trap 'rm -rf "$credentials"' EXIT
    install -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0400 "$TOKEN_FILE" "$credentials/telegram_bot_token"
    chown "$SERVICE_USER:$SERVICE_USER" "$credentials"
    chmod 0500 "$credentials"
    environment+=("CREDENTIALS_DIRECTORY=$credentials")
fi

cd "$DATA_DIR"
status=0
runuser -u "$SERVICE_USER" -- env -i "${environment[@]}" "$CALFBOT" "$@" || status=$?
exit "$status"
