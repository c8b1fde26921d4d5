//! fleetrmi: remove Docker images across a fleet of hosts over SSH.
