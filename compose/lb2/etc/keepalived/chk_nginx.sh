#!/bin/bash
# chk_nginx: healthy while an nginx process exists (exit 1 when there is none).
pgrep -x nginx >/dev/null
