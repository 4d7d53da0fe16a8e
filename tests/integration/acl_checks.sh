# Access checks shared by the broker plugin's test (Mosquitto) and fleet mode's (NATS): the same
# registry, the same promises. Sourced after lib.sh; the caller defines `connects USER PASS`
# for its broker and registers device plugA_$$ ($PA), device plugB_$$ ($PB), the service account
# hub_$$ ($HUB) and the dashboard account dash_$$ ($DASH).

# Devices and accounts log in with their own secret, and nothing else does.
check_logins() {
    connects "plugA_$$" "$PA" || fail "a device with its secret was refused"
    connects "hub_$$" "$HUB" || fail "the hub's service account was refused"
    connects "dash_$$" "$DASH" || fail "a dashboard account was refused"
    ! connects "plugA_$$" "x$PA" || fail "a wrong password was accepted"
    ! connects "plugA_$$" "$PB" || fail "another device's secret was accepted"
    ! connects "ghost_$$" "$PA" || fail "an unknown device was accepted"
    ! connects "" "" || fail "an anonymous client was accepted"
}
