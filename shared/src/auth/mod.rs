//! Passwords (argon2id), access tokens (EdDSA JWTs), their signing keys, refresh tokens (opaque, rotated), device
//! tokens, mailed single-use tokens and the login throttle's rules: crypto and token rules only, no storage and no HTTP.
pub mod device;
pub(crate) mod jwt_crypto;
pub mod mailed;
pub mod password;
pub mod refresh;
pub mod signing_keys;
pub mod throttle;
pub mod token;

pub use device::{DEVICE_TOKEN_TTL, NewDeviceToken, device_token_hash};
pub use mailed::{MailedToken, NewMailedToken, TokenPurpose, mailed_token_hash};
pub use password::{PasswordError, hash_password, needs_rehash, verify_password};
pub use refresh::{NewRefreshToken, RandomnessError, refresh_token_hash};
pub use token::{AccessToken, Claims, TokenError, TokenKeys, TokenService};
