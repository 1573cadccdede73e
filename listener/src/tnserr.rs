//! The Oracle Net error numbers the listener and `lsnrctl` raise, with their exact message
//! texts, so every refusal, log line and CLI error reads like Oracle's (`TNS-12514: ...`).

/// An Oracle Net error number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TnsCode(pub u32);

impl TnsCode {
    /// TNS:listener failed to start a dedicated server process.
    pub const SPAWN_FAILED: Self = Self(12500);
    /// TNS:listener received no CONNECT_DATA from client.
    pub const NO_CONNECT_DATA: Self = Self(12502);
    /// TNS:listener was not given the SERVICE_NAME in CONNECT_DATA.
    pub const NO_SERVICE_NAME: Self = Self(12504);
    /// TNS:listener does not currently know of SID given in connect descriptor.
    pub const UNKNOWN_SID: Self = Self(12505);
    /// TNS:listener does not currently know of service requested in connect descriptor.
    pub const UNKNOWN_SERVICE: Self = Self(12514);
    /// TNS:listener could not find available handler with matching protocol stack.
    pub const NO_HANDLER_STACK: Self = Self(12516);
    /// TNS:listener could not hand off client connection.
    pub const HANDOFF_FAILED: Self = Self(12518);
    /// TNS:no appropriate service handler found.
    pub const NO_APPROPRIATE_HANDLER: Self = Self(12519);
    /// TNS:listener could not find available handler for requested type of server.
    pub const NO_HANDLER_TYPE: Self = Self(12520);
    /// TNS:listener does not currently know of instance requested in connect descriptor.
    pub const UNKNOWN_INSTANCE: Self = Self(12521);
    /// TNS:listener has not received client's request in time allowed.
    pub const INBOUND_TIMEOUT: Self = Self(12525);
    /// TNS:listener: all appropriate instances are in restricted mode.
    pub const RESTRICTED: Self = Self(12526);
    /// TNS:listener: all appropriate instances are blocking new connections.
    pub const BLOCKING: Self = Self(12528);
    /// TNS:connection closed.
    pub const CONNECTION_CLOSED: Self = Self(12537);
    /// TNS:no listener.
    pub const NO_LISTENER: Self = Self(12541);
    /// TNS:address already in use.
    pub const ADDRESS_IN_USE: Self = Self(12542);
    /// TNS:protocol adapter error.
    pub const PROTOCOL_ADAPTER: Self = Self(12560);
    /// TNS:bad packet.
    pub const BAD_PACKET: Self = Self(12592);
    /// No listener.
    pub const NO_LISTENER_00511: Self = Self(511);
    /// The listener could not authenticate the user.
    pub const NOT_AUTHENTICATED: Self = Self(1189);
    /// Failed to resolve name.
    pub const RESOLVE_FAILED: Self = Self(3505);

    /// The message text (without the `TNS-nnnnn: ` prefix).
    pub fn text(self) -> &'static str {
        match self.0 {
            511 => "No listener",
            1189 => "The listener could not authenticate the user",
            3505 => "Failed to resolve name",
            12500 => "TNS:listener failed to start a dedicated server process",
            12502 => "TNS:listener received no CONNECT_DATA from client",
            12504 => "TNS:listener was not given the SERVICE_NAME in CONNECT_DATA",
            12505 => "TNS:listener does not currently know of SID given in connect descriptor",
            12508 => "TNS:listener could not resolve the COMMAND given",
            1153 => "Failed to process string",
            12514 => {
                "TNS:listener does not currently know of service requested in connect descriptor"
            }
            12516 => "TNS:listener could not find available handler with matching protocol stack",
            12518 => "TNS:listener could not hand off client connection",
            12519 => "TNS:no appropriate service handler found",
            12520 => "TNS:listener could not find available handler for requested type of server",
            12521 => {
                "TNS:listener does not currently know of instance requested in connect descriptor"
            }
            12525 => "TNS:listener has not received client's request in time allowed",
            12526 => "TNS:listener: all appropriate instances are in restricted mode",
            12528 => "TNS:listener: all appropriate instances are blocking new connections",
            12535 => "TNS:operation timed out",
            12537 => "TNS:connection closed",
            12546 => "TNS:permission denied",
            516 => "Permission denied",
            12541 => "TNS:no listener",
            12542 => "TNS:address already in use",
            12545 => "Connect failed because target host or object does not exist",
            12560 => "TNS:protocol adapter error",
            12592 => "TNS:bad packet",
            _ => "TNS:unknown error",
        }
    }

    /// `TNS-nnnnn: text`.
    pub fn tns_line(self) -> String {
        format!("TNS-{:05}: {}", self.0, self.text())
    }
}

impl std::fmt::Display for TnsCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.tns_line())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_oracle_lines() {
        assert_eq!(
            TnsCode::UNKNOWN_SERVICE.tns_line(),
            "TNS-12514: TNS:listener does not currently know of service requested in connect descriptor"
        );
        assert_eq!(
            TnsCode::NO_LISTENER_00511.tns_line(),
            "TNS-00511: No listener"
        );
    }
}
