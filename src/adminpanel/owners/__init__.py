"""My mailbox (SPEC §14): a mailbox's owner signs in, with a second factor, and manages its
own protection and mail apps. The owner is a kind of person (people.kinds): the login steps,
the second factor and the throttles are the house's, generalised over the person."""
