//! Each injected fault as a client meets it on the wire: statuses, headers, bodies, delays,
//! cut-off transfers, expired tokens and cursors, and the log that proves it happened.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};

use super::faults::{CONCURRENCY_CODE, CONCURRENCY_MESSAGE, RATE_LIMIT_BODY};
use super::http_tests::{RawPage, access_token, get, raw_id, start};
use super::*;

const ACCOUNTS: &str = "/object-query/accounts";

fn header<'r>(response: &'r reqwest::Response, name: &str) -> &'r str {
    response.headers()[name].to_str().unwrap()
}

fn kinds(emulator: &Emulator) -> Vec<FaultKind> {
    emulator.fault_log().into_iter().map(|f| f.kind).collect()
}

#[tokio::test]
async fn concurrency_bursts_answer_429_with_code_50000070_and_retry_after() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    emulator.set_faults(Faults {
        rate_limit_bursts: Some(Bursts {
            every: 3,
            length: 2,
            answer: Throttle::Concurrency,
        }),
        retry_after: Duration::from_secs(1),
        ..Faults::default()
    });

    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = get(&client, &emulator, &token, ACCOUNTS, &[]).await;
        statuses.push(response.status().as_u16());
        if response.status() != StatusCode::TOO_MANY_REQUESTS {
            continue;
        }
        assert_eq!(header(&response, "retry-after"), "1");
        assert_eq!(header(&response, "concurrency-limit-type"), "Object Query");
        assert_eq!(header(&response, "concurrency-limit-limit"), "80");
        assert_eq!(header(&response, "concurrency-limit-remaining"), "0");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["success"], false);
        assert_eq!(body["processId"].as_str().unwrap().len(), 16);
        assert_eq!(body["reasons"][0]["code"], CONCURRENCY_CODE);
        assert_eq!(body["reasons"][0]["message"], CONCURRENCY_MESSAGE);
    }
    assert_eq!(statuses, [200, 200, 429, 429, 200, 429]);
    let log = emulator.fault_log();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|f| f.path == ACCOUNTS
        && f.kind
            == FaultKind::Burst {
                answer: Throttle::Concurrency
            }));
    emulator.shutdown().await;
}

#[tokio::test]
async fn rate_limit_bursts_answer_the_code_70_body_with_ratelimit_headers() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    emulator.set_faults(Faults {
        rate_limit_bursts: Some(Bursts {
            every: 2,
            length: 1,
            answer: Throttle::RateLimit,
        }),
        retry_after: Duration::from_secs(1),
        ..Faults::default()
    });

    let fine = get(&client, &emulator, &token, "/v1/describe", &[]).await;
    assert_eq!(fine.status(), StatusCode::OK);
    let windows = "50000, 50000;w=60, 2250000;w=3600, 27000000;w=86400";
    assert_eq!(header(&fine, "ratelimit-limit"), windows);
    let remaining: u32 = header(&fine, "ratelimit-remaining").parse().unwrap();
    assert!(remaining < 50_000);

    let limited = get(&client, &emulator, &token, "/v1/describe", &[]).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&limited, "ratelimit-limit"), windows);
    assert_eq!(header(&limited, "ratelimit-remaining"), "0");
    assert_eq!(header(&limited, "ratelimit-reset"), "1");
    assert!(limited.headers().get("retry-after").is_none());
    assert_eq!(limited.text().await.unwrap(), RATE_LIMIT_BODY);
    let expected = "{\"reasons\":[{\"code\":70,\"message\":\"API Rate limit exceeded for the \
                    minute, retry after 600 seconds\"}]}";
    assert_eq!(RATE_LIMIT_BODY, expected);
    assert_eq!(
        kinds(&emulator),
        [FaultKind::Burst {
            answer: Throttle::RateLimit
        }]
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_quota_refuses_requests_past_the_minute_until_the_clock_moves_on() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    // Start at the top of an emulator minute so the requests below share it.
    let now = emulator.now().timestamp();
    emulator.set_clock(chrono::DateTime::from_timestamp((now / 60 + 1) * 60, 0).unwrap());
    emulator.set_faults(Faults {
        requests_per_minute: Some(3),
        ..Faults::default()
    });

    let mut remaining = Vec::new();
    for _ in 0..3 {
        let response = get(&client, &emulator, &token, "/v1/describe", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "ratelimit-limit"), "3, 3;w=60");
        remaining.push(header(&response, "ratelimit-remaining").to_string());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let refused = get(&client, &emulator, &token, ACCOUNTS, &[]).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let reset: u64 = header(&refused, "ratelimit-reset").parse().unwrap();
    assert!((1..=60).contains(&reset), "{reset}");
    assert_eq!(refused.text().await.unwrap(), RATE_LIMIT_BODY);

    emulator.advance_clock(Duration::from_secs(60));
    let next_minute = get(&client, &emulator, &token, ACCOUNTS, &[]).await;
    assert_eq!(next_minute.status(), StatusCode::OK);
    assert_eq!(kinds(&emulator), [FaultKind::QuotaExceeded { limit: 3 }]);
    emulator.shutdown().await;
}

#[tokio::test]
async fn requests_beyond_the_concurrency_limit_get_the_concurrency_429() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    emulator.set_faults(Faults {
        max_concurrent_requests: Some(2),
        retry_after: Duration::ZERO,
        ..Faults::default()
    });

    let hold = emulator.hold_requests();
    let running: Vec<_> = (0..2)
        .map(|_| {
            let (client, emulator, token) = (client.clone(), emulator.clone(), token.clone());
            tokio::spawn(async move {
                let response = get(&client, &emulator, &token, ACCOUNTS, &[]).await;
                (
                    response.status(),
                    header(&response, "concurrency-limit-limit").to_string(),
                )
            })
        })
        .collect();
    emulator.wait_until_in_flight(2).await;

    let third = get(&client, &emulator, &token, ACCOUNTS, &[]).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&third, "retry-after"), "0");
    assert_eq!(header(&third, "concurrency-limit-limit"), "2");
    let body: serde_json::Value = third.json().await.unwrap();
    assert_eq!(body["reasons"][0]["code"], CONCURRENCY_CODE);

    drop(hold);
    for request in running {
        let (status, limit) = request.await.unwrap();
        assert_eq!((status, limit.as_str()), (StatusCode::OK, "2"));
    }
    assert_eq!(
        kinds(&emulator),
        [FaultKind::ConcurrencyLimit { in_flight: 3 }]
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn server_errors_come_at_the_configured_rate_with_gateway_and_api_bodies() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    emulator.set_faults(Faults {
        seed: 4,
        http_5xx_rate: 1.0,
        ..Faults::default()
    });

    let mut statuses = BTreeSet::new();
    for n in 0..16 {
        let path = if n % 2 == 0 { ACCOUNTS } else { "/v1/describe" };
        let response = get(&client, &emulator, &token, path, &[]).await;
        let status = response.status().as_u16();
        statuses.insert(status);
        let content_type = header(&response, "content-type").to_string();
        let body = response.text().await.unwrap();
        match status {
            500 | 503 => {
                let body: serde_json::Value = serde_json::from_str(&body).unwrap();
                let code = body["reasons"][0]["code"].as_u64().unwrap();
                assert_eq!(code % 100, if status == 500 { 60 } else { 61 });
            }
            502 | 504 => {
                assert_eq!(content_type, "text/html");
                assert!(body.contains(&format!("<title>{status} ")), "{body}");
            }
            other => panic!("{other} is not a 5xx"),
        }
    }
    assert!(statuses.len() >= 3, "{statuses:?}");
    assert_eq!(
        access_token(&client, &emulator).await.len(),
        32,
        "tokens are still issued"
    );

    emulator.set_faults(Faults {
        seed: 4,
        http_5xx_rate: 0.25,
        ..Faults::default()
    });
    let before = emulator.fault_log().len();
    let mut failed = 0;
    for _ in 0..40 {
        let status = get(&client, &emulator, &token, ACCOUNTS, &[])
            .await
            .status();
        failed += usize::from(status.is_server_error());
    }
    assert!((3..25).contains(&failed), "{failed} of 40");
    assert_eq!(emulator.fault_log().len() - before, failed);
    emulator.shutdown().await;
}

#[tokio::test]
async fn slow_pages_wait_and_gateway_timeouts_answer_504_after_waiting() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    let delay = Duration::from_millis(30);
    emulator.set_faults(Faults {
        slow_page: Some((2, delay)),
        ..Faults::default()
    });
    let first = get(&client, &emulator, &token, ACCOUNTS, &[]).await;
    assert_eq!(first.status(), StatusCode::OK);
    let started = Instant::now();
    let second = get(&client, &emulator, &token, ACCOUNTS, &[]).await;
    assert!(started.elapsed() >= delay);
    assert_eq!(second.status(), StatusCode::OK);
    let page: RawPage = serde_json::from_str(&second.text().await.unwrap()).unwrap();
    assert_eq!(page.data.len(), 10);
    assert_eq!(kinds(&emulator), [FaultKind::Slow { delay }]);

    let after = Duration::from_millis(20);
    emulator.set_faults(Faults {
        gateway_timeout: Some((1, after)),
        ..Faults::default()
    });
    let started = Instant::now();
    let timed_out = get(&client, &emulator, &token, "/v1/describe/Account", &[]).await;
    assert!(started.elapsed() >= after);
    assert_eq!(timed_out.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(
        timed_out
            .text()
            .await
            .unwrap()
            .contains("504 Gateway Time-out")
    );
    assert_eq!(kinds(&emulator)[1], FaultKind::GatewayTimeout { after });
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_truncated_transfer_promises_more_than_it_sends_and_breaks_the_connection() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    emulator.set_faults(Faults {
        truncate_every_n: Some(2),
        ..Faults::default()
    });
    let whole = get(&client, &emulator, &token, ACCOUNTS, &[("pageSize", "20")]).await;
    assert!(serde_json::from_slice::<RawPage>(&whole.bytes().await.unwrap()).is_ok());

    let mut cut = get(&client, &emulator, &token, ACCOUNTS, &[("pageSize", "20")]).await;
    assert_eq!(cut.status(), StatusCode::OK);
    let promised: usize = header(&cut, "content-length").parse().unwrap();
    let mut received = Vec::new();
    let failure = loop {
        match cut.chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => panic!("the body ended cleanly after {} bytes", received.len()),
            Err(error) => break error,
        }
    };
    assert!(
        failure.is_body() || failure.is_decode() || failure.is_request(),
        "{failure}"
    );
    assert!(!received.is_empty() && received.len() < promised);
    assert!(serde_json::from_slice::<serde_json::Value>(&received).is_err());
    assert_eq!(
        kinds(&emulator),
        [FaultKind::Truncated {
            sent: received.len(),
            promised
        }]
    );
    let after = get(&client, &emulator, &token, ACCOUNTS, &[]).await;
    assert_eq!(after.status(), StatusCode::OK, "a new connection works");
    emulator.shutdown().await;
}

#[tokio::test]
async fn tokens_expire_every_nth_request_until_a_new_one_is_fetched() {
    let emulator = start(10).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    emulator.set_faults(Faults {
        expire_tokens_every_n: Some(3),
        ..Faults::default()
    });
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = get(&client, &emulator, &token, ACCOUNTS, &[]).await;
        statuses.push(response.status().as_u16());
        if response.status() == StatusCode::UNAUTHORIZED {
            let body = response.text().await.unwrap();
            assert_eq!(body, "{\"message\":\"Authentication error\"}");
        }
    }
    assert_eq!(statuses, [200, 200, 401, 401]);
    let fresh = access_token(&client, &emulator).await;
    let status = get(&client, &emulator, &fresh, ACCOUNTS, &[])
        .await
        .status();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kinds(&emulator), [FaultKind::TokensExpired]);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_client_restarting_from_the_last_second_after_cursor_expiry_sees_every_row() {
    let emulator = start(30).await;
    let client = Client::new();
    let token = access_token(&client, &emulator).await;
    emulator.set_faults(Faults {
        cursor_ttl: Some(Duration::from_secs(60)),
        ..Faults::default()
    });
    let path = "/object-query/invoice-items";

    let (mut seen, mut from, mut cursor) = (BTreeSet::new(), None::<String>, None::<String>);
    let (mut pages, mut expiries) = (0, 0);
    loop {
        let filter = from
            .as_ref()
            .map(|second| format!("updatedDate.GE:{second}"));
        let mut query = vec![("pageSize", "50"), ("sort[]", "updateddate.ASC")];
        query.extend(filter.as_deref().map(|f| ("filter[]", f)));
        query.extend(cursor.as_deref().map(|c| ("cursor", c)));
        let response = get(&client, &emulator, &token, path, &query).await;
        if response.status() == StatusCode::BAD_REQUEST {
            let body: serde_json::Value = response.json().await.unwrap();
            let code = body["code"].as_u64().unwrap();
            assert!((10_000_000..100_000_000).contains(&code) && code % 100 == 20);
            let message = body["message"].as_str().unwrap();
            assert!(message.starts_with("Invalid cursor: the cursor has expired"));
            // Restart the window from the last row's second, without the cursor.
            (expiries, cursor) = (expiries + 1, None);
            continue;
        }
        let page: RawPage = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        pages += 1;
        for row in &page.data {
            seen.insert(raw_id(row));
            from = Some(serde_json::from_str(row["updatedDate"].get()).unwrap());
        }
        match pages {
            2 => emulator.advance_clock(Duration::from_secs(61)),
            6 => emulator.expire_cursors(),
            _ => {}
        }
        match page.next_page {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(expiries, 2);
    let all: BTreeSet<String> = emulator
        .rows("InvoiceItem")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(seen, all);
    assert_eq!(
        kinds(&emulator),
        [FaultKind::CursorExpired, FaultKind::CursorExpired]
    );
    emulator.shutdown().await;
}
