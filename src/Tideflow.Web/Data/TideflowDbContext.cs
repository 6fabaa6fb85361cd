using System.Text.Json;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Query.SqlExpressions;
using Microsoft.EntityFrameworkCore.Storage;
using Tideflow.Domain.Access;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Features.Scoring;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Features.Notifications;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Data;

/// <summary>
/// The one DbContext. Its query filters are the single data-scope path: organisation isolation and
/// own/team/all visibility for every read of scoped rows. SaveChanges writes the audit trail.
/// Provider-specific subclasses exist only so each provider has its own migrations (see Data/README.md).
/// </summary>
public abstract partial class TideflowDbContext(DbContextOptions options, CurrentUser currentUser, TimeProvider clock)
    : IdentityUserContext<AppUser, Guid>(options), IDataProtectionKeyContext
{
    public DbSet<Organization> Organizations => Set<Organization>();
    public DbSet<Team> Teams => Set<Team>();
    public DbSet<Customer> Customers => Set<Customer>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<Channel> Channels => Set<Channel>();
    public DbSet<Lead> Leads => Set<Lead>();
    public DbSet<LeadTouch> LeadTouches => Set<LeadTouch>();
    public DbSet<ContactKey> ContactKeys => Set<ContactKey>();
    public DbSet<CaptureReceipt> CaptureReceipts => Set<CaptureReceipt>();
    public DbSet<BlockedValue> BlockedValues => Set<BlockedValue>();
    public DbSet<ChannelDay> ChannelDays => Set<ChannelDay>();

    public DbSet<ImportJob> ImportJobs => Set<ImportJob>();
    public DbSet<Notification> Notifications => Set<Notification>();
    public DbSet<ImportTemplate> ImportTemplates => Set<ImportTemplate>();
    public DbSet<ImportReceipt> ImportReceipts => Set<ImportReceipt>();
    public DbSet<ScoreCardVersion> ScoreCardVersions => Set<ScoreCardVersion>();
    public DbSet<BehaviourEvent> BehaviourEvents => Set<BehaviourEvent>();
    public DbSet<RescoreJob> RescoreJobs => Set<RescoreJob>();
    public DbSet<StoredAssignmentRule> AssignmentRules => Set<StoredAssignmentRule>();
    public DbSet<TeamTurn> TeamTurns => Set<TeamTurn>();
    public DbSet<RepAbsence> RepAbsences => Set<RepAbsence>();
    public DbSet<OwnershipChange> OwnershipChanges => Set<OwnershipChange>();
    public DbSet<FollowUpTask> FollowUpTasks => Set<FollowUpTask>();
    public DbSet<StoredCustomField> CustomFields => Set<StoredCustomField>();
    public DbSet<FollowUpRecord> FollowUpRecords => Set<FollowUpRecord>();
    public DbSet<StageMove> StageMoves => Set<StageMove>();
    public DbSet<StoredFeedbackRule> FeedbackRules => Set<StoredFeedbackRule>();
    public DbSet<Shared.RuleListVersion> RuleListVersions => Set<Shared.RuleListVersion>();
    public DbSet<Features.Pool.CustomerPool> Pools => Set<Features.Pool.CustomerPool>();
    public DbSet<Features.Pool.PoolTeam> PoolTeams => Set<Features.Pool.PoolTeam>();
    public DbSet<Features.Pool.ClaimCount> ClaimCounts => Set<Features.Pool.ClaimCount>();
    public DbSet<Features.Pool.PoolWarning> PoolWarnings => Set<Features.Pool.PoolWarning>();
    public DbSet<ScheduledJob> ScheduledJobs => Set<ScheduledJob>();
    public DbSet<NotificationDelivery> NotificationDeliveries => Set<NotificationDelivery>();
    public DbSet<ReminderPreference> ReminderPreferences => Set<ReminderPreference>();
    public DbSet<ReminderSettings> ReminderSettings => Set<ReminderSettings>();
    public DbSet<StoredFollowUpPlans> FollowUpPlans => Set<StoredFollowUpPlans>();
    public DbSet<StoredPipeline> Pipelines => Set<StoredPipeline>();
    public DbSet<Features.Attachments.Attachment> Attachments => Set<Features.Attachments.Attachment>();
    public DbSet<Features.Attachments.AttachmentContent> AttachmentContents => Set<Features.Attachments.AttachmentContent>();

    public CurrentUser CurrentUser => currentUser;

    /// <summary>Bulk paths (import) switch per-row entity auditing off and write one summary entry instead.</summary>
    public bool AuditEntityChanges { get; set; } = true;

    // Read by the query filters; EF evaluates them per query, so one context follows its user. The booleans are
    // inlined with EF.Constant: EF then drops the dead branch, and SQLite (which cannot simplify "@p OR …") gets a
    // predicate its indexes can serve. Few combinations exist, so the extra cached query shapes stay few.
    private bool ScopeIsSystem => currentUser.Scope.IsSystem;
    // No user and no organisation: only the sign-in machinery runs like this. A channel scope has an organisation.
    private bool ScopeIsAnonymous => currentUser.Scope.OrganizationId == Guid.Empty && !currentUser.Scope.IsSystem;
    private Guid ScopeOrganizationId => currentUser.Scope.OrganizationId;
    private Guid ScopeUserId => currentUser.Scope.UserId;
    private bool ScopeSeesAllOwners => currentUser.Scope.VisibleOwnerIds is null;
    private List<Guid> ScopeOwnerIds => currentUser.Scope.VisibleOwnerIds?.ToList() ?? [];
    // Pools the user claims from: their customers are visible to members (masked in lists) until claimed.
    private List<Guid> ScopePoolIds => currentUser.Scope.PoolIds?.ToList() ?? [];
    // Managers hand out unassigned leads, so they see the lead pool of their organisation.
    private bool ScopeSeesUnassigned => currentUser.Scope.Role == Role.Manager;

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        builder.Entity<Organization>(e =>
        {
            e.Property(o => o.Name).HasMaxLength(200);
            e.HasQueryFilter(o => EF.Constant(ScopeIsSystem) || o.Id == ScopeOrganizationId);
        });

        builder.Entity<Team>(e =>
        {
            e.Property(t => t.Name).HasMaxLength(100);
            e.HasIndex(t => new { t.OrganizationId, t.Name }).IsUnique();
            e.HasOne<Organization>().WithMany().HasForeignKey(t => t.OrganizationId);
            e.HasOne<Team>().WithMany().HasForeignKey(t => t.ParentTeamId).OnDelete(DeleteBehavior.Restrict);
            e.HasQueryFilter(t => EF.Constant(ScopeIsSystem) || t.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<AppUser>(e =>
        {
            e.Property(u => u.DisplayName).HasMaxLength(100);
            e.Property(u => u.Role).HasConversion<string>().HasMaxLength(20);
            e.Property(u => u.Culture).HasMaxLength(10);
            e.Property(u => u.TimeZone).HasMaxLength(64);
            e.Property(u => u.UsedAuthenticatorCodes).HasMaxLength(400);
            e.HasIndex(u => u.OrganizationId);
            e.HasOne<Organization>().WithMany().HasForeignKey(u => u.OrganizationId);
            e.HasOne<Team>().WithMany().HasForeignKey(u => u.TeamId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<AppUser>().WithMany().HasForeignKey(u => u.ManagerId).OnDelete(DeleteBehavior.Restrict);
            // Anonymous callers must find a user by name to log in; they see no business rows.
            e.HasQueryFilter(u => EF.Constant(ScopeIsSystem) || EF.Constant(ScopeIsAnonymous) || u.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<Customer>(e =>
        {
            e.Property(c => c.Name).HasMaxLength(100);
            e.Property(c => c.Company).HasMaxLength(200);
            e.Property(c => c.Mobile).HasMaxLength(32);
            e.Property(c => c.Email).HasMaxLength(254);
            e.Property(c => c.Region).HasMaxLength(50);
            e.Property(c => c.Industry).HasMaxLength(50);
            e.Property(c => c.CompanyKey).HasMaxLength(200);
            e.Property(c => c.Grade).HasMaxLength(20);
            e.Property(c => c.Fields).HasMaxLength(65536);
            e.Property(c => c.Stage).HasMaxLength(30).HasDefaultValue(Domain.Pipeline.SalesPipeline.First);
            e.Property(c => c.FeedbackTags).HasMaxLength(1000);
            e.HasIndex(c => new { c.OrganizationId, c.Stage, c.StageChangedAt });
            e.HasIndex(c => new { c.OrganizationId, c.OwnerId });
            e.HasIndex(c => new { c.OrganizationId, c.CompanyKey });
            // Routing's "who works with this company" (LeadRouter.StickyOwnersAsync): the oldest owned customer, one entry read.
            e.HasIndex(c => new { c.OrganizationId, c.CompanyKey, c.CreatedAt }).HasFilter(NotNull("OwnerId"));
            e.HasIndex(c => new { c.PoolId, c.PooledAt });
            e.Property(c => c.PoolReason).HasMaxLength(500);
            e.Property(c => c.OwnerId).IsConcurrencyToken();
            e.HasOne<Organization>().WithMany().HasForeignKey(c => c.OrganizationId);
            e.HasOne<AppUser>().WithMany().HasForeignKey(c => c.OwnerId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Features.Pool.CustomerPool>().WithMany().HasForeignKey(c => c.PoolId).OnDelete(DeleteBehavior.Restrict);
            e.HasQueryFilter(c => EF.Constant(ScopeIsSystem) ||
                (c.OrganizationId == ScopeOrganizationId &&
                 (EF.Constant(ScopeSeesAllOwners) || (c.OwnerId != null && ScopeOwnerIds.Contains(c.OwnerId.Value)) ||
                  (c.OwnerId == null && c.PoolId != null && ScopePoolIds.Contains(c.PoolId.Value)))));
        });

        builder.Entity<ChannelDay>(e =>
        {
            e.HasKey(d => new { d.ChannelId, d.Day });
            e.Property(d => d.Day).HasMaxLength(80);
            e.HasOne<Channel>().WithMany().HasForeignKey(d => d.ChannelId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(d => EF.Constant(ScopeIsSystem) || d.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<Channel>(e =>
        {
            e.Property(c => c.Name).HasMaxLength(100);
            e.Property(c => c.Kind).HasConversion<string>().HasMaxLength(30);
            e.Property(c => c.SourceTag).HasMaxLength(50);
            e.Property(c => c.Key).HasMaxLength(64);
            e.Property(c => c.AllowedDomains).HasMaxLength(1000);
            e.Property(c => c.CapTimeZone).HasMaxLength(64);
            e.HasIndex(c => c.Key).IsUnique();
            e.HasIndex(c => new { c.OrganizationId, c.Name }).IsUnique();
            e.HasOne<Organization>().WithMany().HasForeignKey(c => c.OrganizationId);
            e.HasQueryFilter(c => EF.Constant(ScopeIsSystem) || c.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<Lead>(e =>
        {
            e.Property(l => l.Name).HasMaxLength(100);
            e.Property(l => l.Company).HasMaxLength(200);
            e.Property(l => l.CompanyKey).HasMaxLength(200);
            e.Property(l => l.Mobile).HasMaxLength(32);
            e.Property(l => l.Email).HasMaxLength(254);
            e.Property(l => l.SourceTag).HasMaxLength(50);
            e.Property(l => l.Tags).HasMaxLength(500);
            e.Property(l => l.Campaign).HasMaxLength(200);
            e.Property(l => l.UtmSource).HasMaxLength(200);
            e.Property(l => l.UtmMedium).HasMaxLength(200);
            // Status changes (merge, fix, discard) by two people at once: the second is refused, not silently applied.
            e.Property(l => l.Status).HasConversion<string>().HasMaxLength(20).IsConcurrencyToken();
            e.Property(l => l.Problems).HasMaxLength(200);
            e.Property(l => l.PageUrl).HasMaxLength(2000);
            e.Property(l => l.RawPayload).HasMaxLength(65536);
            e.HasIndex(l => new { l.OrganizationId, l.ArrivedAt });
            e.HasIndex(l => new { l.OrganizationId, l.Status });
            // Owner first: the same index serves the foreign key, which needed an index of its own (one index fewer to
            // write per lead; an import writes 100,000).
            e.HasIndex(l => new { l.OwnerId, l.OrganizationId });
            e.HasIndex(l => new { l.OrganizationId, l.CompanyKey });
            // Routing's "who works with this company": the oldest owned open lead, without reading the company's other leads
            // (unowned, invalid or closed: most of them, after imports). StickyOwnersAsync states the same filter.
            e.HasIndex(l => new { l.OrganizationId, l.CompanyKey, l.ArrivedAt })
                .HasFilter($"{NotNull("OwnerId")} AND \"Status\" IN ('New', 'Nurture', 'Qualified')");
            e.Property(l => l.Fields).HasMaxLength(65536);
            e.Property(l => l.Grade).HasMaxLength(20);
            e.Property(l => l.ScoreBreakdown).HasMaxLength(8000);
            e.Property(l => l.BantNotes).HasMaxLength(1000);
            e.Property(l => l.DisqualifyReason).HasMaxLength(500);
            // Two behaviour events at once: the second save is refused and retried on the fresh balance.
            e.Property(l => l.BehaviourCount).IsConcurrencyToken();
            e.HasOne<Organization>().WithMany().HasForeignKey(l => l.OrganizationId);
            e.HasOne<Channel>().WithMany().HasForeignKey(l => l.ChannelId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<AppUser>().WithMany().HasForeignKey(l => l.OwnerId).OnDelete(DeleteBehavior.Restrict);
            e.HasIndex(l => new { l.PoolId, l.PooledAt }).HasFilter(NotNull("PoolId"));
            e.Property(l => l.PoolReason).HasMaxLength(500);
            e.HasOne<Features.Pool.CustomerPool>().WithMany().HasForeignKey(l => l.PoolId).OnDelete(DeleteBehavior.Restrict);
            // Managers see every unassigned lead (they hand them out and review them); other members of a pool see the
            // open leads waiting in it (线索池), masked until claimed.
            e.HasQueryFilter(l => EF.Constant(ScopeIsSystem) ||
                (l.OrganizationId == ScopeOrganizationId &&
                 (EF.Constant(ScopeSeesAllOwners) || (l.OwnerId != null && ScopeOwnerIds.Contains(l.OwnerId.Value)) ||
                  (l.OwnerId == null && (EF.Constant(ScopeSeesUnassigned) ||
                    (l.PoolId != null && l.Status == LeadStatus.New && ScopePoolIds.Contains(l.PoolId.Value)))))));
        });

        builder.Entity<LeadTouch>(e =>
        {
            e.Property(t => t.Kind).HasMaxLength(30);
            e.Property(t => t.PageUrl).HasMaxLength(2000);
            e.Property(t => t.Ip).HasMaxLength(64);
            e.Property(t => t.RawPayload).HasMaxLength(65536);
            e.HasIndex(t => new { t.LeadId, t.At }).HasFilter(NotNull("LeadId"));
            e.HasIndex(t => new { t.CustomerId, t.At }).HasFilter(NotNull("CustomerId"));
            e.HasOne<Lead>().WithMany().HasForeignKey(t => t.LeadId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Customer>().WithMany().HasForeignKey(t => t.CustomerId).OnDelete(DeleteBehavior.Cascade);
            // Read only through a lead the caller can see (Leads.TimelineAsync); the organisation is still enforced here.
            e.HasQueryFilter(t => EF.Constant(ScopeIsSystem) || t.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<ContactKey>(e =>
        {
            e.Property(k => k.Key).HasMaxLength(300);
            e.HasIndex(k => new { k.OrganizationId, k.Key }).IsUnique();
            e.HasIndex(k => k.LeadId).HasFilter(NotNull("LeadId"));
            e.HasIndex(k => k.CustomerId).HasFilter(NotNull("CustomerId"));
            e.HasOne<Lead>().WithMany().HasForeignKey(k => k.LeadId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Customer>().WithMany().HasForeignKey(k => k.CustomerId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(k => EF.Constant(ScopeIsSystem) || k.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<CaptureReceipt>(e =>
        {
            e.Property(r => r.Key).HasMaxLength(300);
            e.HasIndex(r => new { r.OrganizationId, r.Key }).IsUnique();
            e.HasOne<Lead>().WithMany().HasForeignKey(r => r.LeadId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(r => EF.Constant(ScopeIsSystem) || r.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<ImportJob>(e =>
        {
            e.Property(j => j.FileName).HasMaxLength(260);
            e.Property(j => j.FileHash).HasMaxLength(64);
            e.Property(j => j.Encoding).HasMaxLength(20);
            e.Property(j => j.Status).HasConversion<string>().HasMaxLength(20);
            e.Property(j => j.Content).HasMaxLength(int.MaxValue);
            e.Property(j => j.Mapping).HasMaxLength(4000);
            e.Property(j => j.Report).HasMaxLength(int.MaxValue);
            e.Property(j => j.Error).HasMaxLength(2000);
            e.HasIndex(j => new { j.OrganizationId, j.CreatedAt });
            // An upload holds raw personal data: its author, their managers up the tree, and admins see it.
            e.HasQueryFilter(j => EF.Constant(ScopeIsSystem) ||
                (j.OrganizationId == ScopeOrganizationId && (EF.Constant(ScopeSeesAllOwners) || ScopeOwnerIds.Contains(j.CreatedById))));
        });

        builder.Entity<ImportReceipt>(e =>
        {
            e.Property(r => r.FileHash).HasMaxLength(64);
            e.Property(r => r.RejectedRows).HasMaxLength(int.MaxValue);
            // Two imports of one file at once: the second to write a batch starting at the same row is refused, starts the
            // batch again and finds it written. (Should an admin change the custom fields between the two starts, the two
            // may reject different rows, so their batches start at different rows: new leads still meet on their contact
            // keys, but an invalid row or a duplicate's touch is then written by both.)
            e.HasIndex(r => new { r.OrganizationId, r.FileHash, r.FirstRow }).IsUnique();
            e.HasQueryFilter(r => EF.Constant(ScopeIsSystem) || r.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<ImportTemplate>(e =>
        {
            e.Property(t => t.HeaderKey).HasMaxLength(64);
            e.Property(t => t.Mapping).HasMaxLength(4000);
            e.HasIndex(t => new { t.OrganizationId, t.HeaderKey }).IsUnique();
            e.HasQueryFilter(t => EF.Constant(ScopeIsSystem) || t.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<Notification>(e =>
        {
            e.Property(n => n.Kind).HasMaxLength(40);
            e.Property(n => n.Parameters).HasMaxLength(2000);
            e.Property(n => n.Link).HasMaxLength(300);
            e.HasIndex(n => new { n.RecipientId, n.ReadAt });
            // Each user reads only their own notifications.
            e.HasQueryFilter(n => EF.Constant(ScopeIsSystem) || (n.OrganizationId == ScopeOrganizationId && n.RecipientId == ScopeUserId));
        });

        builder.Entity<NotificationDelivery>(e =>
        {
            e.Property(d => d.Channel).HasConversion<string>().HasMaxLength(20);
            e.Property(d => d.State).HasConversion<string>().HasMaxLength(20);
            e.Property(d => d.LastError).HasMaxLength(1000);
            // The dispatcher's read: what is waiting and due, soonest first.
            e.HasIndex(d => new { d.State, d.NextAttemptAt });
            e.HasIndex(d => new { d.OrganizationId, d.CreatedAt });
            e.HasIndex(d => d.NotificationId);
            e.HasOne<Notification>().WithMany().HasForeignKey(d => d.NotificationId).OnDelete(DeleteBehavior.Cascade);
            // Delivery state is the admin's to see (the delivery list checks the permission); the organisation filter isolates tenants.
            e.HasQueryFilter(d => EF.Constant(ScopeIsSystem) || d.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<ReminderPreference>(e =>
        {
            e.HasKey(p => p.UserId);
            e.Property(p => p.DingTalkWebhook).HasMaxLength(1000);
            e.Property(p => p.DingTalkSecret).HasMaxLength(1000);
            e.Property(p => p.WeComWebhook).HasMaxLength(1000);
            e.HasOne<AppUser>().WithOne().HasForeignKey<ReminderPreference>(p => p.UserId).OnDelete(DeleteBehavior.Cascade);
            // A user reads and edits only their own choice; notifying someone else reads theirs past this filter (PlanDeliveriesAsync).
            e.HasQueryFilter(p => EF.Constant(ScopeIsSystem) || (p.OrganizationId == ScopeOrganizationId && p.UserId == ScopeUserId));
        });

        builder.Entity<StoredPipeline>(e =>
        {
            e.HasKey(p => p.OrganizationId);
            // Room for the largest pipelines validation allows (10 × 20 stages × 5 actions), with margin.
            e.Property(p => p.Definition).HasMaxLength(1_000_000);
            // Two admins saving at once: the later save's UPDATE finds the version moved on and is refused, not applied over it.
            e.Property(p => p.Version).IsConcurrencyToken();
            e.HasOne<Organization>().WithOne().HasForeignKey<StoredPipeline>(p => p.OrganizationId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(p => EF.Constant(ScopeIsSystem) || p.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<StoredFollowUpPlans>(e =>
        {
            e.HasKey(p => p.OrganizationId);
            e.Property(p => p.Plans).HasMaxLength(20_000);
            e.Property(p => p.Version).IsConcurrencyToken();
            e.HasOne<Organization>().WithOne().HasForeignKey<StoredFollowUpPlans>(p => p.OrganizationId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(p => EF.Constant(ScopeIsSystem) || p.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<ReminderSettings>(e =>
        {
            e.HasKey(r => r.OrganizationId);
            e.Property(r => r.SmtpSecurity).HasConversion<string>().HasMaxLength(20);
            e.Property(r => r.AppUrl).HasMaxLength(300);
            e.Property(r => r.SmtpHost).HasMaxLength(255);
            e.Property(r => r.SmtpUserName).HasMaxLength(255);
            e.Property(r => r.SmtpPassword).HasMaxLength(1000);
            e.Property(r => r.FromAddress).HasMaxLength(255);
            e.Property(r => r.FromName).HasMaxLength(100);
            e.HasOne<Organization>().WithOne().HasForeignKey<ReminderSettings>(r => r.OrganizationId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(r => EF.Constant(ScopeIsSystem) || r.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<LeadMerge>(e =>
        {
            e.Property(m => m.MergedStatusBefore).HasConversion<string>().HasMaxLength(20);
            e.Property(m => m.Moved).HasMaxLength(int.MaxValue);
            e.Property(m => m.UndoneAt).IsConcurrencyToken();
            e.HasIndex(m => m.SurvivorId);
            e.HasIndex(m => m.MergedId);
            e.HasQueryFilter(m => EF.Constant(ScopeIsSystem) || m.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<StoredCustomField>(e =>
        {
            e.ToTable("CustomFields");
            e.Property(f => f.Key).HasMaxLength(Domain.Leads.CustomFields.MaxKey);
            e.Property(f => f.Label).HasMaxLength(Domain.Leads.CustomFields.MaxLabel);
            // Up to 100 options of 50 characters, as a JSON array.
            e.Property(f => f.Options).HasMaxLength(16384);
            e.Property(f => f.Type).HasConversion<string>().HasMaxLength(20);
            e.Property(f => f.AppliesTo).HasConversion<string>().HasMaxLength(20);
            e.HasIndex(f => new { f.OrganizationId, f.Key }).IsUnique();
            e.HasQueryFilter(f => EF.Constant(ScopeIsSystem) || f.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<StoredTagRule>(e =>
        {
            e.ToTable("TagRules");
            e.Property(r => r.Name).HasMaxLength(100);
            e.Property(r => r.Tag).HasMaxLength(30);
            e.HasQueryFilter(r => EF.Constant(ScopeIsSystem) || r.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<BlockedValue>(e =>
        {
            e.Property(b => b.Value).HasMaxLength(254);
            e.HasIndex(b => new { b.OrganizationId, b.Value }).IsUnique();
            e.HasQueryFilter(b => EF.Constant(ScopeIsSystem) || b.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<ScoreCardVersion>(e =>
        {
            e.Property(v => v.Card).HasMaxLength(int.MaxValue);
            e.HasIndex(v => new { v.OrganizationId, v.Version }).IsUnique();
            e.HasQueryFilter(v => EF.Constant(ScopeIsSystem) || v.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<BehaviourEvent>(e =>
        {
            e.Property(v => v.Type).HasMaxLength(50);
            e.HasIndex(v => new { v.LeadId, v.At });
            e.HasOne<Lead>().WithMany().HasForeignKey(v => v.LeadId).OnDelete(DeleteBehavior.Cascade);
            // Read only through a lead the caller can see.
            e.HasQueryFilter(v => EF.Constant(ScopeIsSystem) || v.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<RescoreJob>(e =>
        {
            e.Property(j => j.Status).HasConversion<string>().HasMaxLength(20);
            e.Property(j => j.Error).HasMaxLength(2000);
            e.HasQueryFilter(j => EF.Constant(ScopeIsSystem) || j.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<StoredAssignmentRule>(e =>
        {
            e.Property(r => r.Name).HasMaxLength(100);
            e.Property(r => r.Conditions).HasMaxLength(8000);
            e.Property(r => r.Target).HasConversion<string>().HasMaxLength(10);
            e.Property(r => r.Method).HasConversion<string>().HasMaxLength(20);
            e.HasQueryFilter(r => EF.Constant(ScopeIsSystem) || r.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<TeamTurn>(e =>
        {
            e.HasKey(t => t.TeamId);
            e.HasOne<Team>().WithMany().HasForeignKey(t => t.TeamId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(t => EF.Constant(ScopeIsSystem) || t.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<RepAbsence>(e =>
        {
            e.Property(a => a.Reason).HasMaxLength(200);
            e.HasIndex(a => new { a.UserId, a.Until });
            e.HasOne<AppUser>().WithMany().HasForeignKey(a => a.UserId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(a => EF.Constant(ScopeIsSystem) || a.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<OwnershipChange>(e =>
        {
            e.Property(o => o.Reason).HasMaxLength(500);
            e.Property(o => o.Rule).HasMaxLength(100);
            e.HasIndex(o => new { o.LeadId, o.At }).HasFilter(NotNull("LeadId"));
            e.HasIndex(o => new { o.CustomerId, o.At }).HasFilter(NotNull("CustomerId"));
            e.Property(o => o.Event).HasConversion<string>().HasMaxLength(20);
            // Pool-flow figures and "claimed today" read by pool and by event.
            e.HasIndex(o => new { o.OrganizationId, o.PoolId, o.At });
            // Read only through a lead or customer the caller can see (AssignOwners.*HistoryAsync).
            e.HasQueryFilter(o => EF.Constant(ScopeIsSystem) || o.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<FollowUpRecord>(e =>
        {
            e.Property(f => f.Channel).HasConversion<string>().HasMaxLength(20);
            e.Property(f => f.Content).HasMaxLength(Domain.Pipeline.FollowUpRules.MaxContent);
            e.Property(f => f.Goal).HasMaxLength(Domain.Pipeline.FollowUpRules.MaxGoal);
            e.Property(f => f.NextPlan).HasMaxLength(Domain.Pipeline.FollowUpRules.MaxNextPlan);
            e.Property(f => f.Tags).HasMaxLength(1000);
            e.HasIndex(f => new { f.OrganizationId, f.CustomerId, f.At });
            e.HasOne<Customer>().WithMany().HasForeignKey(f => f.CustomerId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<AppUser>().WithMany().HasForeignKey(f => f.AuthorId).OnDelete(DeleteBehavior.Restrict);
            // Seen with the customer they are about: the customers' own scope filter decides.
            e.HasQueryFilter(f => EF.Constant(ScopeIsSystem) ||
                (f.OrganizationId == ScopeOrganizationId && Customers.Any(c => c.Id == f.CustomerId)));
        });

        builder.Entity<Features.Attachments.Attachment>(e =>
        {
            e.Property(a => a.Purpose).HasMaxLength(20);
            e.Property(a => a.FileName).HasMaxLength(Domain.Attachments.AttachmentRules.MaxFileName);
            e.Property(a => a.ContentType).HasMaxLength(100);
            e.Property(a => a.Sha256).HasMaxLength(64);
            e.Property(a => a.FollowUpRecordId).IsConcurrencyToken();
            e.HasIndex(a => new { a.OrganizationId, a.CustomerId, a.UploadedAt });
            e.HasIndex(a => a.FollowUpRecordId);
            e.HasOne<Customer>().WithMany().HasForeignKey(a => a.CustomerId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<FollowUpRecord>().WithMany().HasForeignKey(a => a.FollowUpRecordId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<AppUser>().WithMany().HasForeignKey(a => a.UploadedById).OnDelete(DeleteBehavior.Restrict);
            // Seen with the customer they belong to; a pooled customer's files only by those who see every customer, since
            // pool members see its contact details masked until they claim it, and a contract is full of them.
            e.HasQueryFilter(a => EF.Constant(ScopeIsSystem) ||
                (a.OrganizationId == ScopeOrganizationId
                 && Customers.Any(c => c.Id == a.CustomerId && (c.OwnerId != null || EF.Constant(ScopeSeesAllOwners)))));
        });

        builder.Entity<Features.Attachments.AttachmentContent>(e =>
        {
            e.HasKey(c => c.AttachmentId);
            e.HasOne<Features.Attachments.Attachment>().WithOne().HasForeignKey<Features.Attachments.AttachmentContent>(c => c.AttachmentId)
                .OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(c => EF.Constant(ScopeIsSystem) ||
                (c.OrganizationId == ScopeOrganizationId && Attachments.Any(a => a.Id == c.AttachmentId)));
        });

        builder.Entity<Features.Pool.CustomerPool>(e =>
        {
            e.Property(p => p.Name).HasMaxLength(100);
            e.Property(p => p.Settings).HasMaxLength(20000);
            // Two admins saving one pool at once: the later UPDATE finds the version moved on and is refused.
            e.Property(p => p.Version).IsConcurrencyToken();
            e.HasIndex(p => new { p.OrganizationId, p.Name }).IsUnique();
            e.HasOne<Organization>().WithMany().HasForeignKey(p => p.OrganizationId);
            e.HasQueryFilter(p => EF.Constant(ScopeIsSystem) || p.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<Features.Pool.PoolTeam>(e =>
        {
            e.HasKey(t => new { t.PoolId, t.TeamId });
            e.HasIndex(t => t.TeamId).IsUnique();
            e.HasOne<Features.Pool.CustomerPool>().WithMany().HasForeignKey(t => t.PoolId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Team>().WithMany().HasForeignKey(t => t.TeamId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(t => EF.Constant(ScopeIsSystem) || t.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<Features.Pool.ClaimCount>(e =>
        {
            e.HasKey(c => new { c.UserId, c.Day });
            e.Property(c => c.Day).HasMaxLength(10);
            e.HasOne<AppUser>().WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(c => EF.Constant(ScopeIsSystem) || c.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<Features.Pool.PoolWarning>(e =>
        {
            e.HasIndex(w => new { w.CustomerId, w.DueAt, w.HoursBefore }).IsUnique();
            e.HasOne<Customer>().WithMany().HasForeignKey(w => w.CustomerId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(w => EF.Constant(ScopeIsSystem) || w.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<ScheduledJob>(e =>
        {
            e.HasKey(j => j.Name);
            e.Property(j => j.Name).HasMaxLength(50);
            e.Property(j => j.LastResult).HasMaxLength(1000);
            e.Property(j => j.LeaseHolder).HasMaxLength(100);
        });

        builder.Entity<Shared.RuleListVersion>(e =>
        {
            e.HasKey(v => new { v.OrganizationId, v.List });
            e.Property(v => v.List).HasMaxLength(30);
            // Two admins saving the same list at once: the later save's UPDATE finds the version moved on.
            e.Property(v => v.Version).IsConcurrencyToken();
            e.HasOne<Organization>().WithMany().HasForeignKey(v => v.OrganizationId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(v => EF.Constant(ScopeIsSystem) || v.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<StoredFeedbackRule>(e =>
        {
            e.ToTable("FeedbackRules");
            e.Property(r => r.Tag).HasMaxLength(Domain.Pipeline.FeedbackTags.MaxTag);
            e.HasQueryFilter(r => EF.Constant(ScopeIsSystem) || r.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<StageMove>(e =>
        {
            e.Property(m => m.From).HasMaxLength(30);
            e.Property(m => m.To).HasMaxLength(30);
            e.Property(m => m.LostReason).HasMaxLength(500);
            e.Property(m => m.OverrideReason).HasMaxLength(500);
            e.HasIndex(m => new { m.OrganizationId, m.CustomerId, m.At });
            e.HasIndex(m => new { m.CustomerId, m.Sequence }).IsUnique();
            e.HasOne<Customer>().WithMany().HasForeignKey(m => m.CustomerId).OnDelete(DeleteBehavior.Restrict);
            e.HasQueryFilter(m => EF.Constant(ScopeIsSystem) ||
                (m.OrganizationId == ScopeOrganizationId && Customers.Any(c => c.Id == m.CustomerId)));
        });

        builder.Entity<FollowUpTask>(e =>
        {
            e.Property(t => t.Kind).HasMaxLength(30);
            e.Property(t => t.Title).HasMaxLength(200);
            e.Property(t => t.ClosedReason).HasMaxLength(30);
            e.Property(t => t.NotDoneReason).HasMaxLength(500);
            // The reminder job's reads: open tasks past due not yet reminded, or not yet escalated. Partial, so they
            // hold only the few tasks still waiting for either, not every task ever done.
            e.HasIndex(t => t.DueAt, "IX_FollowUpTasks_AwaitingReminder").HasFilter("\"ClosedAt\" IS NULL AND \"RemindedAt\" IS NULL");
            e.HasIndex(t => t.DueAt, "IX_FollowUpTasks_AwaitingEscalation").HasFilter("\"ClosedAt\" IS NULL AND \"EscalatedAt\" IS NULL");
            // Owner first, so it also serves the foreign key (see Lead's).
            e.HasIndex(t => new { t.OwnerId, t.OrganizationId, t.ClosedAt, t.DueAt });
            // The workbench's contact owed: the earliest open contact task of each customer in the caller's scope, read from
            // the index alone (no table row per task). Partial, so it holds the open tasks only, not every task ever done.
            e.HasIndex(t => new { t.OrganizationId, t.OwnerId, t.CustomerId, t.Kind, t.DueAt }, "IX_FollowUpTasks_OpenContact")
                .HasFilter("\"ClosedAt\" IS NULL");
            e.HasIndex(t => t.LeadId).HasFilter(NotNull("LeadId"));
            e.HasIndex(t => t.CustomerId).HasFilter(NotNull("CustomerId"));
            e.HasOne<AppUser>().WithMany().HasForeignKey(t => t.OwnerId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Lead>().WithMany().HasForeignKey(t => t.LeadId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Customer>().WithMany().HasForeignKey(t => t.CustomerId).OnDelete(DeleteBehavior.Cascade);
            // Tasks are seen like the records they are about: the owner, their managers, admins.
            e.HasQueryFilter(t => EF.Constant(ScopeIsSystem) ||
                (t.OrganizationId == ScopeOrganizationId && (EF.Constant(ScopeSeesAllOwners) || ScopeOwnerIds.Contains(t.OwnerId))));
        });

        builder.Entity<AuditEntry>(e =>
        {
            e.Property(a => a.Action).HasMaxLength(40);
            e.Property(a => a.EntityType).HasMaxLength(60);
            e.Property(a => a.EntityId).HasMaxLength(100);
            e.Property(a => a.ActorName).HasMaxLength(256);
            e.Property(a => a.Ip).HasMaxLength(64);
            e.Property(a => a.Changes).HasMaxLength(int.MaxValue);
            e.HasIndex(a => new { a.OrganizationId, a.At });
            e.HasQueryFilter(a => EF.Constant(ScopeIsSystem) || a.OrganizationId == ScopeOrganizationId);
        });

        builder.Entity<ApiToken>(e =>
        {
            e.Property(t => t.Name).HasMaxLength(100);
            e.Property(t => t.Prefix).HasMaxLength(16);
            e.Property(t => t.Hash).HasMaxLength(64);
            e.HasIndex(t => t.Hash).IsUnique();
            e.HasOne<AppUser>().WithMany().HasForeignKey(t => t.UserId);
            // A user sees and revokes only their own tokens.
            e.HasQueryFilter(t => EF.Constant(ScopeIsSystem) || (t.OrganizationId == ScopeOrganizationId && t.UserId == ScopeUserId));
        });
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<string>().HaveMaxLength(4000);
    }

    // The data-protection key store saves synchronously; it gets the same guard and audit.
    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        if (ChangeTracker.Entries<Notification>().Any(e => e.State == EntityState.Added))
        {
            throw new InvalidOperationException("Notifications are saved with SaveChangesAsync, which plans their deliveries.");
        }
        var stale = GuardAndAudit();
        var saved = base.SaveChanges(acceptAllChangesOnSuccess);
        DropRoutingSnapshots(stale);
        return saved;
    }

    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        await PlanDeliveriesAsync(cancellationToken);
        var stale = GuardAndAudit();
        var saved = await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        DropRoutingSnapshots(stale);
        return saved;
    }

    /// <summary>
    /// Every new notification gets a delivery row per outside channel its recipient chose, in the same save: a
    /// notification is never stored without its deliveries, nor a delivery announced for a notification that was not.
    /// </summary>
    private async Task PlanDeliveriesAsync(CancellationToken ct)
    {
        // Notifications are only ever Add()ed, which tracks them at once: no change detection is needed to find them,
        // and skipping it keeps big saves (imports, the sweep) from scanning their graph one more time.
        var detect = ChangeTracker.AutoDetectChangesEnabled;
        ChangeTracker.AutoDetectChangesEnabled = false;
        List<Notification> added;
        try
        {
            added = ChangeTracker.Entries<Notification>().Where(e => e.State == EntityState.Added).Select(e => e.Entity).ToList();
            if (added.Count == 0)
            {
                return;
            }
            // A retried save must not plan the same notification twice.
            var planned = ChangeTracker.Entries<NotificationDelivery>().Select(e => e.Entity.NotificationId).ToHashSet();
            added.RemoveAll(n => planned.Contains(n.Id));
        }
        finally
        {
            ChangeTracker.AutoDetectChangesEnabled = detect;
        }
        var recipients = added.Select(n => n.RecipientId).Distinct().ToList();
        if (recipients.Count == 0)
        {
            return;
        }
        var choices = await ReminderPreferences.IgnoreQueryFilters().AsNoTracking()
            .Where(p => recipients.Contains(p.UserId) && (p.Email || p.DingTalk || p.WeCom))
            .ToDictionaryAsync(p => p.UserId, ct);
        foreach (var n in added)
        {
            if (!choices.TryGetValue(n.RecipientId, out var choice) || choice.OrganizationId != n.OrganizationId)
            {
                continue;
            }
            foreach (var channel in choice.Chosen())
            {
                NotificationDeliveries.Add(new NotificationDelivery
                {
                    Id = Guid.CreateVersion7(), OrganizationId = n.OrganizationId, NotificationId = n.Id, RecipientId = n.RecipientId,
                    Channel = channel, State = Domain.Notifications.DeliveryState.Pending, NextAttemptAt = n.CreatedAt, CreatedAt = n.CreatedAt,
                });
            }
        }
    }

    // Routing keeps a short-lived snapshot of users, teams, rules and score cards; a save here makes it stale at once.
    private static void DropRoutingSnapshots(HashSet<Guid> organizations)
    {
        foreach (var organization in organizations)
        {
            RoutingCache.Drop(organization);
        }
    }

    /// <summary>Writes an audit entry that is not an entity change (login, export, role change reason).</summary>
    /// <param name="ip">The sender's address, where it is not the current request's (a batch of captured submissions).</param>
    public void Audit(string action, string? entityType = null, string? entityId = null, object? details = null,
        Guid? organizationId = null, Guid? actorId = null, string? actorName = null, string? ip = null) =>
        AuditEntries.Add(AuditEntryFor(action, entityType, entityId, details, organizationId, actorId, actorName, ip));

    /// <summary>The entry <see cref="Audit"/> adds, for a write that inserts it by its own SQL.</summary>
    public AuditEntry AuditEntryFor(string action, string? entityType = null, string? entityId = null, object? details = null,
        Guid? organizationId = null, Guid? actorId = null, string? actorName = null, string? ip = null) =>
        new()
        {
            OrganizationId = organizationId ?? currentUser.OrganizationId,
            At = clock.GetUtcNow(),
            ActorId = actorId ?? NullIfEmpty(currentUser.Id),
            ActorName = actorName ?? ActorNameNow,
            Ip = ip ?? currentUser.Ip,
            Action = action,
            EntityType = entityType,
            EntityId = entityId,
            Changes = details is null ? null : JsonSerializer.Serialize(details, AuditJson),
        };

    private static readonly HashSet<string> Secret =
    [
        nameof(AppUser.PasswordHash), nameof(AppUser.SecurityStamp), nameof(AppUser.ConcurrencyStamp), nameof(AppUser.UsedAuthenticatorCodes),
        nameof(ApiToken.Hash), nameof(IdentityUserToken<Guid>.Value),
        nameof(ReminderPreference.DingTalkWebhook), nameof(ReminderPreference.DingTalkSecret), nameof(ReminderPreference.WeComWebhook),
        nameof(Features.Notifications.ReminderSettings.SmtpPassword),
    ];

    /// <returns>Organisations whose routing snapshot this save makes stale.</returns>
    private HashSet<Guid> GuardAndAudit()
    {
        var now = clock.GetUtcNow();
        var entries = ChangeTracker.Entries()
            .Where(e => e.State is EntityState.Added or EntityState.Modified or EntityState.Deleted)
            .ToList();
        var stale = new HashSet<Guid>();
        foreach (var entry in entries)
        {
            if (RoutingCache.Affects(entry.Metadata.ClrType) && entry.Entity is IOrganizationOwned routed)
            {
                stale.Add(routed.OrganizationId);
            }
            if (entry.Entity is AuditEntry && entry.State != EntityState.Added)
            {
                throw new InvalidOperationException("The audit log is append-only.");
            }
            if (entry.Entity is FollowUpRecord && entry.State != EntityState.Added)
            {
                throw new InvalidOperationException("Follow-up records are append-only; log a correction instead.");
            }
            // Evidence stays as uploaded: the one change an attachment ever sees is being linked to its follow-up.
            if ((entry.Entity is Features.Attachments.AttachmentContent && entry.State != EntityState.Added)
                || (entry.Entity is Features.Attachments.Attachment && (entry.State == EntityState.Deleted || (entry.State == EntityState.Modified
                    && entry.Properties.Any(p => p.IsModified && p.Metadata.Name != nameof(Features.Attachments.Attachment.FollowUpRecordId))))))
            {
                throw new InvalidOperationException("Attachments are kept as uploaded; only linking one to its follow-up changes it.");
            }
            // Stage rules hold on every path: a stage changes only together with the StageMove that MoveStage writes after its checks.
            if (entry.Entity is Customer moved
                && ((entry.State == EntityState.Modified && entry.Property(nameof(Customer.Stage)).IsModified)
                    || (entry.State == EntityState.Added && moved.Stage != Domain.Pipeline.SalesPipeline.First))
                && !entries.Any(e => e.State == EntityState.Added && e.Entity is StageMove m && m.CustomerId == moved.Id && m.To == moved.Stage))
            {
                throw new InvalidOperationException("A customer's stage changes only through MoveStage, which checks the stage's requirements.");
            }
            // A pooled customer is claimed before anyone works on it: only a change that gives it an owner (a manager's
            // assignment) touches it; claims and the sweep are conditional UPDATEs that do not pass through here.
            if (entry.Entity is Customer pooled && entry.State == EntityState.Modified && pooled.OwnerId is null
                && entry.Property(nameof(Customer.OwnerId)).OriginalValue is null && !currentUser.Scope.IsSystem && currentUser.Role != Role.Admin)
            {
                throw Tideflow.Web.Shared.Problem.Conflict("This customer is in the pool; claim it before working on it.");
            }
            // Likewise a pooled lead: a rep who sees it only as a member of its pool claims it before working on it.
            if (entry.Entity is Lead pooledLead && entry.State == EntityState.Modified && pooledLead.OwnerId is null
                && entry.Property(nameof(Lead.PoolId)).OriginalValue is not null && entry.Property(nameof(Lead.OwnerId)).OriginalValue is null
                && !currentUser.Scope.IsSystem && currentUser.Scope.VisibleOwnerIds is not null && currentUser.Role != Role.Manager)
            {
                throw Tideflow.Web.Shared.Problem.Conflict("This lead is in the lead pool; claim it before working on it.");
            }
            // Users and channel/import scopes write only into their own organisation; sign-in (no organisation) and the system are exempt.
            if (entry.Entity is IOrganizationOwned owned && currentUser.OrganizationId != Guid.Empty && !currentUser.Scope.IsSystem)
            {
                if (entry.State == EntityState.Added && owned.OrganizationId == Guid.Empty)
                {
                    owned.OrganizationId = currentUser.OrganizationId;
                }
                // Defence in depth behind the query filters: nobody writes into another organisation.
                if (owned.OrganizationId != currentUser.OrganizationId && owned is not AuditEntry)
                {
                    throw new InvalidOperationException("Write outside the caller's organisation refused.");
                }
            }
            // A delivery is bookkeeping of the notification it carries, which is audited; a file's bytes are recorded by
            // their attachment's entry (size, SHA-256), never copied into the log.
            if (entry.Entity is AuditEntry or DataProtectionKey or NotificationDelivery or Features.Attachments.AttachmentContent || !AuditEntityChanges)
            {
                continue;
            }
            AddAuditFor(entry, now);
        }
        return stale;
    }

    private void AddAuditFor(EntityEntry entry, DateTimeOffset now)
    {
        var changes = new Dictionary<string, object?[]>();
        foreach (var p in entry.Properties)
        {
            var name = p.Metadata.Name;
            object? before = entry.State == EntityState.Added ? null : p.OriginalValue;
            object? after = entry.State == EntityState.Deleted ? null : p.CurrentValue;
            if (entry.State == EntityState.Modified && (!p.IsModified || Equals(before, after)))
            {
                continue;
            }
            if (Secret.Contains(name))
            {
                changes[name] = ["***", "***"];
                continue;
            }
            changes[name] = [Summarize(before), Summarize(after)];
        }
        if (entry.State == EntityState.Modified && changes.Count == 0)
        {
            return;
        }
        var orgId = entry.Entity is IOrganizationOwned o ? o.OrganizationId
            : entry.Entity is Organization org ? org.Id
            : currentUser.OrganizationId;
        var key = entry.Metadata.FindPrimaryKey()?.Properties
            .Select(p => entry.Property(p.Name).CurrentValue?.ToString());
        AuditEntries.Add(new AuditEntry
        {
            OrganizationId = orgId,
            At = now,
            ActorId = NullIfEmpty(currentUser.Id),
            ActorName = ActorNameNow,
            Ip = currentUser.Ip,
            Action = entry.State switch
            {
                EntityState.Added => AuditActions.Create,
                EntityState.Deleted => AuditActions.Delete,
                _ => AuditActions.Update,
            },
            EntityType = entry.Metadata.ClrType.Name,
            EntityId = key is null ? null : string.Join("/", key),
            Changes = JsonSerializer.Serialize(changes, AuditJson),
        });
    }

    // Chinese names stay readable in the log; it is always rendered escaped as text.
    private static readonly JsonSerializerOptions AuditJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Jobs and seeding act as "system"; a write before sign-in (failed-login counters) has no actor.
    private string? ActorNameNow => NullIfBlank(currentUser.Scope.UserName);

    // Files and long texts (uploads, reports, raw payloads) are described, not copied, into the log.
    private static object? Summarize(object? value) => value switch
    {
        byte[] bytes => $"({bytes.Length} bytes)",
        string text when text.Length > 500 => $"{text[..200]}… ({text.Length} characters)",
        _ => value,
    };

    private static Guid? NullIfEmpty(Guid id) => id == Guid.Empty ? null : id;

    // For a row about either a lead or a customer the other column is empty, and most leads are in no pool: indexed only
    // where it is set, an index holds far fewer entries (an import writes one per new lead and table), and "= value",
    // "IN (…)" and the foreign key's cascade use it all the same on both databases.
    private static string NotNull(string column) => $"\"{column}\" IS NOT NULL";
    private static string? NullIfBlank(string? s) => string.IsNullOrEmpty(s) ? null : s;
}

public sealed class SqliteTideflowDbContext(DbContextOptions<SqliteTideflowDbContext> options, CurrentUser currentUser, TimeProvider clock)
    : TideflowDbContext(options, currentUser, clock)
{
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // One default pool per organisation (the filter is SQL, so each provider words it).
        builder.Entity<Features.Pool.CustomerPool>().HasIndex(p => p.OrganizationId).IsUnique().HasFilter("\"IsDefault\" = 1");
        // json_extract(fields, '$.' || key); keys are letters, digits and _ (CustomFields.Problem), so the path needs no quoting.
        // Arguments do not "propagate" nullability: a missing key gives null too, so "value is set" must not become "fields is set".
        static SqlExpression Extract(IReadOnlyList<SqlExpression> args) => new SqlFunctionExpression("json_extract",
            [args[0], new SqlBinaryExpression(System.Linq.Expressions.ExpressionType.Add,
                new SqlConstantExpression("$.", typeof(string), args[1].TypeMapping), args[1], typeof(string), args[1].TypeMapping)],
            nullable: true, argumentsPropagateNullability: [false, false], typeof(string), args[0].TypeMapping);
        builder.HasDbFunction(typeof(CustomFieldValue).GetMethod(nameof(CustomFieldValue.Text))!).HasTranslation(Extract);
        builder.HasDbFunction(typeof(CustomFieldValue).GetMethod(nameof(CustomFieldValue.Number))!).HasTranslation(args =>
            new SqlUnaryExpression(System.Linq.Expressions.ExpressionType.Convert, Extract(args), typeof(double), new DoubleTypeMapping("REAL")));
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        base.ConfigureConventions(configurationBuilder);
        // SQLite cannot compare or sort DateTimeOffset; UTC ticks as an integer sort correctly.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToUtcTicks>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToUtcTicks>();
    }
}

public sealed class PostgresTideflowDbContext(DbContextOptions<PostgresTideflowDbContext> options, CurrentUser currentUser, TimeProvider clock)
    : TideflowDbContext(options, currentUser, clock)
{
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // Scores, owners and statuses change in place all the time (a re-score touches every open lead): room left in
        // each page lets PostgreSQL update a row there without touching its indexes (a HOT update).
        builder.Entity<Lead>().HasStorageParameter("fillfactor", 80);
        builder.Entity<Features.Pool.CustomerPool>().HasIndex(p => p.OrganizationId).IsUnique().HasFilter("\"IsDefault\"");
        // SQL functions created by the CustomFields migration: (fields::jsonb ->> key), and the same as a number.
        builder.HasDbFunction(typeof(CustomFieldValue).GetMethod(nameof(CustomFieldValue.Text))!).HasName("tideflow_field");
        builder.HasDbFunction(typeof(CustomFieldValue).GetMethod(nameof(CustomFieldValue.Number))!).HasName("tideflow_field_number");
    }
}

public sealed class DateTimeOffsetToUtcTicks() : Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DateTimeOffset, long>(
    v => v.UtcTicks, v => new DateTimeOffset(v, TimeSpan.Zero));

/// <summary>
/// A custom field's value inside a record's Fields JSON, in a query (list filters). Each provider maps these to SQL:
/// SQLite's json_extract, PostgreSQL's functions from the CustomFields migration. Never called in .NET.
/// </summary>
public static class CustomFieldValue
{
    public static string? Text(string? fields, string key) => throw new NotSupportedException("Only inside a database query.");

    public static double? Number(string? fields, string key) => throw new NotSupportedException("Only inside a database query.");
}
