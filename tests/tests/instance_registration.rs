//! lreg against the listener's registration table: a real `oradb` registers with a
//! `listener::registration::RegistrationServer` run inside the test, the way `tnslsnr` runs
//! it, on the socket LOCAL_LISTENER names.

use std::time::Duration;

use listener::registration::{RegistrationEventKind, RegistrationServer};
use server_proc::registration::{HandlerKind, HandlerState, InstanceStatus};
use server_proc::sga::Sga;
use tests::instance::{TestHome, wait_for};

const SOON: Duration = Duration::from_secs(5);

#[test]
fn lreg_registers_services_handler_and_load_and_deregisters_at_shutdown() {
    let home = TestHome::new("service_names='sales','hr'\nprocesses=6");
    let server = RegistrationServer::start(&home.registration_socket(), "LISTENER").unwrap();
    let mut inst = home.start_foreground();
    let reg = server.registry();
    let found = wait_for(SOON, || reg.lookup_service("SALES").into_iter().next());
    let i = found.expect("the instance registered");
    assert_eq!(i.instance_name, home.sid);
    assert_eq!(i.sid, home.sid);
    assert_eq!(i.status, InstanceStatus::Ready);
    // The default service DB_UNIQUE_NAME is always registered, then SERVICE_NAMES.
    assert_eq!(i.services, vec!["ORCL", "sales", "hr"]);
    assert_eq!(reg.lookup_service("orcl").len(), 1);
    assert_eq!(i.oracle_home, home.path().display().to_string());
    let d = i.dedicated().expect("DEDICATED handler");
    assert_eq!(d.handler.kind, HandlerKind::Dedicated);
    assert_eq!(d.handler.state, HandlerState::Ready);
    assert_eq!(d.handler.max, 6);
    assert_eq!(reg.lookup_service("hr").len(), 1);

    // Load changes are reported: fill PROCESSES and the handler turns blocked.
    let probes: Vec<_> = (0..4).map(|_| home.probe(1)).collect();
    assert!(probes.iter().all(|p| p.error.is_none()));
    let blocked = wait_for(SOON, || {
        let i = reg.lookup_service("sales").into_iter().next()?;
        (i.dedicated()?.handler.state == HandlerState::Blocked).then_some(i)
    })
    .expect("dedicated handler blocked at PROCESSES");
    assert_eq!(blocked.load.processes_used, 6);
    assert_eq!(blocked.load.sessions_used, 6);
    drop(probes);
    assert!(
        wait_for(SOON, || {
            let i = reg.lookup_service("sales").into_iter().next()?;
            (i.dedicated()?.handler.state == HandlerState::Ready).then_some(())
        })
        .is_some(),
        "ready again once pmon freed the slots"
    );

    // SHUTDOWN IMMEDIATE deregisters: the service is gone (the listener now says 12514).
    let out = home.run_oradb(&["shutdown", "immediate"]);
    assert!(out.status.success());
    assert!(inst.wait_exit(SOON));
    assert!(reg.lookup_service("sales").is_empty());
    let kinds: Vec<_> = reg.take_events().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.first(), Some(&RegistrationEventKind::Register));
    assert_eq!(kinds.last(), Some(&RegistrationEventKind::Deregister));
}

#[test]
fn a_restarted_listener_is_registered_with_again_within_a_second_or_two() {
    let home = TestHome::new("");
    let _inst = home.start_foreground();
    // The instance starts first: no listener yet, as after a reboot.
    let sga = Sga::attach(&home.sid).unwrap();
    assert!(!sga.registration_state().0);
    let mut server = RegistrationServer::start(&home.registration_socket(), "LISTENER").unwrap();
    assert!(
        wait_for(Duration::from_secs(2), || server
            .registry()
            .lookup_instance(&home.sid))
        .is_some(),
        "registered soon after the listener came up (no 60 s wait)"
    );
    // lsnrctl stop / start: the new listener knows nothing until lreg is back.
    server.stop();
    drop(server);
    assert!(
        wait_for(SOON, || (!sga.registration_state().0).then_some(())).is_some(),
        "lreg noticed the listener went away"
    );
    let server = RegistrationServer::start(&home.registration_socket(), "LISTENER").unwrap();
    assert!(
        wait_for(Duration::from_secs(2), || server
            .registry()
            .lookup_instance(&home.sid))
        .is_some(),
        "re-registered within 2 s of the listener's return"
    );
}

#[test]
fn alter_system_register_sends_an_update_at_once() {
    // A 600 s interval: only the request can explain a prompt update.
    let home = TestHome::new("_registration_interval=600");
    let server = RegistrationServer::start(&home.registration_socket(), "LISTENER").unwrap();
    let _inst = home.start_foreground();
    let reg = server.registry();
    assert!(wait_for(SOON, || reg.lookup_instance(&home.sid)).is_some());
    let sga = Sga::attach(&home.sid).unwrap();
    let (_, _, before) = sga.registration_state();
    reg.take_events();
    sga.request_registration();
    let updated = wait_for(SOON, || {
        reg.take_events()
            .into_iter()
            .find(|e| e.kind == RegistrationEventKind::Update)
    });
    assert!(updated.is_some());
    assert!(sga.registration_state().2 > before);
}

#[test]
fn an_aborted_instance_is_forgotten_and_a_normal_shutdown_blocks_first() {
    let home = TestHome::new("");
    let server = RegistrationServer::start(&home.registration_socket(), "LISTENER").unwrap();
    let mut inst = home.start_foreground();
    let reg = server.registry();
    assert!(wait_for(SOON, || reg.lookup_instance(&home.sid)).is_some());
    // SHUTDOWN NORMAL with a user connected: the listener is told BLOCKED (→ ORA-12528).
    let user = home.probe(1);
    let shutdown = home.spawn_oradb(&["shutdown", "normal"]);
    let blocked = wait_for(SOON, || {
        reg.lookup_instance(&home.sid)
            .filter(|i| i.status == InstanceStatus::Blocked)
    });
    assert!(
        blocked.is_some(),
        "instance shown BLOCKED during SHUTDOWN NORMAL"
    );
    // Then ABORT from another terminal: the listener sees the registration die.
    let out = home.run_oradb(&["shutdown", "abort"]);
    assert!(out.status.success());
    assert!(inst.wait_exit(SOON));
    assert!(
        wait_for(SOON, || reg
            .lookup_instance(&home.sid)
            .is_none()
            .then_some(()))
        .is_some()
    );
    let kinds: Vec<_> = reg.take_events().into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds.last(),
        Some(&RegistrationEventKind::Died),
        "{kinds:?}"
    );
    // The waiting SHUTDOWN NORMAL ends too once the instance is gone.
    let _ = shutdown.output(SOON);
    drop(user);
}
