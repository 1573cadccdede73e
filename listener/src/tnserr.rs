//! The Oracle Net error numbers the listener and `lsnrctl` raise, named, so routing and logging
//! code says `TnsCode::UNKNOWN_SERVICE` instead of a bare 12514. Their texts are Oracle's,
//! from the one table in [`tns::error_text`] that the client and the engine share.

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
    /// Failed to process string: %s (a bad `lsnrctl` command or parameter).
    pub const BAD_COMMAND: Self = Self(1153);
    /// TNS:listener could not resolve the COMMAND given (ADMIN_RESTRICTIONS).
    pub const COMMAND_RESTRICTED: Self = Self(12508);
    /// TNS:operation timed out.
    pub const TIMED_OUT: Self = Self(12535);
    /// TNS:permission denied.
    pub const PERMISSION_DENIED: Self = Self(12546);
    /// Address already in use (the protocol adapter's reason under 12542).
    pub const ADDRESS_IN_USE_00512: Self = Self(512);
    /// Permission denied (the protocol adapter's reason under 12546).
    pub const PERMISSION_DENIED_00516: Self = Self(516);

    /// `TNS-nnnnn: text`.
    pub fn tns_line(self) -> String {
        tns::error_text::tns_line(self.0)
    }

    /// `TNS-nnnnn: text` with Oracle's variable parts (`%s`) filled from `args`.
    pub fn tns_line_with(self, args: &[&str]) -> String {
        tns::error_text::tns_line_with(self.0, args)
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
        assert_eq!(
            TnsCode::BAD_COMMAND.tns_line_with(&["trc_level loud"]),
            "TNS-01153: Failed to process string: trc_level loud"
        );
    }

    #[test]
    fn every_named_code_has_oracles_text() {
        for code in [
            TnsCode::SPAWN_FAILED,
            TnsCode::NO_CONNECT_DATA,
            TnsCode::NO_SERVICE_NAME,
            TnsCode::UNKNOWN_SID,
            TnsCode::UNKNOWN_SERVICE,
            TnsCode::NO_HANDLER_STACK,
            TnsCode::HANDOFF_FAILED,
            TnsCode::NO_APPROPRIATE_HANDLER,
            TnsCode::NO_HANDLER_TYPE,
            TnsCode::UNKNOWN_INSTANCE,
            TnsCode::INBOUND_TIMEOUT,
            TnsCode::RESTRICTED,
            TnsCode::BLOCKING,
            TnsCode::CONNECTION_CLOSED,
            TnsCode::NO_LISTENER,
            TnsCode::ADDRESS_IN_USE,
            TnsCode::PROTOCOL_ADAPTER,
            TnsCode::BAD_PACKET,
            TnsCode::NO_LISTENER_00511,
            TnsCode::NOT_AUTHENTICATED,
            TnsCode::RESOLVE_FAILED,
            TnsCode::BAD_COMMAND,
            TnsCode::COMMAND_RESTRICTED,
            TnsCode::TIMED_OUT,
            TnsCode::PERMISSION_DENIED,
            TnsCode::PERMISSION_DENIED_00516,
            TnsCode::ADDRESS_IN_USE_00512,
        ] {
            assert!(tns::error_text::tns(code.0).is_some(), "TNS-{:05}", code.0);
        }
    }
}
