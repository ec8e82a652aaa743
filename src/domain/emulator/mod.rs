//! The operator API of issue 19 (not Twilio endpoints): playing the contact's phone
//! (`inbound_messages`, and where such a message goes), numbers attached to Studio flows
//! (`numbers`) and each account's clock (`clock`).

pub mod clock;
pub mod inbound_messages;
pub mod numbers;
