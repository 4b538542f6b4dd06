//! Request framing, checked before any route sees a request: a request must say its body's
//! length one way only, and its body must arrive within a deadline.
//!
//! - `Content-Length` together with `Transfer-Encoding` is refused with 400 and the connection
//!   closed (RFC 9112 §6.3: a front proxy may have read the body by the other header, and what
//!   is left on the connection could be read as a second, smuggled request).
//! - Every request body is read through a stream that ends with a timeout error once the
//!   deadline (`application.body_timeout_secs`, counted from the end of the headers) has
//!   passed; the body readers answer it with 408 `request_timeout` and close the connection.
//!   Without it a client sending a body a byte at a time held a connection (and a file
//!   descriptor) for as long as it liked: actix-web times out headers, not bodies.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use futures::Stream;

use crate::error::ApiError;
use crate::state::ApiState;

/// What a timed-out body stream yields; [`is_timeout`] recognises it.
const TIMEOUT_MESSAGE: &str = "the request body did not arrive in time";

pub async fn guard(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let headers = request.headers();
    let has_length = headers.contains_key(header::CONTENT_LENGTH);
    let has_encoding = headers.contains_key(header::TRANSFER_ENCODING);
    if has_length && has_encoding {
        tracing::info!("request with both Content-Length and Transfer-Encoding refused");
        let response = actix_web::ResponseError::error_response(&ApiError::ambiguous_framing());
        return Ok(request.into_response(response).map_into_right_body());
    }
    if has_length || has_encoding {
        let timeout = request
            .app_data::<Data<ApiState>>()
            .map(|state| state.body_timeout);
        if let Some(timeout) = timeout {
            let payload = request.take_payload();
            request.set_payload(Payload::Stream {
                payload: Box::pin(DeadlinePayload::new(payload, timeout)),
            });
        }
    }
    Ok(next.call(request).await?.map_into_left_body())
}

/// Whether a body read failed because its deadline passed.
pub fn is_timeout(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// A request body that fails with a timeout once `deadline` has passed.
struct DeadlinePayload {
    inner: Payload,
    deadline: Pin<Box<tokio::time::Sleep>>,
    expired: bool,
}

impl DeadlinePayload {
    fn new(inner: Payload, timeout: Duration) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            expired: false,
        }
    }
}

impl Stream for DeadlinePayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.expired = true;
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    TIMEOUT_MESSAGE,
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
