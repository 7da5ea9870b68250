"""Import every model so that SQLAlchemy and Alembic see the whole schema."""

from ledger.accounts.models import Account, LedgerTransaction, Posting  # noqa: F401
from ledger.accounts.monthly import MonthlyTotal  # noqa: F401
from ledger.accounts.numbering import FecEntryNumber  # noqa: F401
from ledger.commons.models import Commons, Income, Membership  # noqa: F401
from ledger.contributions.models import Category, Contribution, Objection, Vote, Vouch  # noqa: F401
from ledger.fund.models import FundDonation, FundIdentity, FundRuleVersion  # noqa: F401
from ledger.governance.models import College, CollegeMember, Decision, ProposalComment, ProposalVote, RuleProposal  # noqa: F401
from ledger.inbox.notifications import MailPreference  # noqa: F401
from ledger.payouts.models import Cae, CaeMembership, ExportRecord, PayoutBatch, PayoutLine  # noqa: F401
from ledger.people.links import AccountLink  # noqa: F401
from ledger.people.models import ApiToken, IdempotencyRecord, LoginAttempt, Person, PersonRole  # noqa: F401
from ledger.revisions import RevisionCounter  # noqa: F401
from ledger.rounds.models import AllocationLine, PeerPoints, Round, RuleVersion, SchedulerRun, SelfRequest  # noqa: F401
