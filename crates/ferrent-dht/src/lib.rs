//! BEP 5 DHT (being written).
