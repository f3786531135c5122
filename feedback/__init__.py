"""Citizen feedback: intake (web form and Open311), case handling with legal deadlines, and the
reporter's identity kept encrypted apart."""
