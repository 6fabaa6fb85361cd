using System.Globalization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Localization;
using Microsoft.EntityFrameworkCore;
using MudBlazor.Services;
using Scalar.AspNetCore;
using Tideflow.Domain.Access;
using Tideflow.Web.Components;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Shared;

namespace Tideflow.Web;

/// <summary>Wiring only. Kept out of Program.cs so tests build the same app.</summary>
public static class Startup
{
    public static void AddTideflow(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var config = builder.Configuration;

        services.AddSingleton(TimeProvider.System);
        // Registered first so the schema is current before anything else starts, including Kestrel.
        services.AddSingleton<DatabaseStartup>();
        services.AddHostedService(sp => sp.GetRequiredService<DatabaseStartup>());
        services.AddScoped<CurrentUser>();
        services.AddTideflowDatabase(config);

        services.AddIdentityCore<AppUser>(o =>
            {
                o.Password.RequiredLength = 8;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequireUppercase = false;
                o.Lockout.MaxFailedAccessAttempts = config.GetValue("Security:MaxFailedLogins", 5);
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(config.GetValue("Security:LockoutMinutes", 15));
                o.User.RequireUniqueEmail = false;
            })
            .AddSignInManager()
            .AddClaimsPrincipalFactory<RoleClaims>()
            .AddDefaultTokenProviders()
            .AddTokenProvider<OnceAuthenticatorTokenProvider>(TokenOptions.DefaultAuthenticatorProvider)
            .AddEntityFrameworkStores<TideflowDbContext>();

        // Every request re-reads the security stamp, so a deactivated user's cookie dies on the next call.
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.Zero);

        services.AddAuthentication(o =>
            {
                o.DefaultScheme = "Tideflow";
                o.DefaultChallengeScheme = "Tideflow";
                o.DefaultSignInScheme = IdentityConstants.ApplicationScheme;
            })
            .AddPolicyScheme("Tideflow", "Cookie or API token", o => o.ForwardDefaultSelector = http =>
                http.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    ? ApiTokenAuthentication.SchemeName
                    : IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthentication>(ApiTokenAuthentication.SchemeName, null)
            .AddIdentityCookies(c => c.ApplicationCookie?.Configure(o =>
            {
                o.LoginPath = "/account/login";
                o.AccessDeniedPath = "/account/denied";
                o.Cookie.Name = "tideflow.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.ExpireTimeSpan = TimeSpan.FromDays(14);
                o.SlidingExpiration = true;
                o.Events.OnRedirectToLogin = ctx => ApiOrRedirect(ctx, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = ctx => ApiOrRedirect(ctx, StatusCodes.Status403Forbidden);
            }));
        services.AddAuthorization();
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, RevalidatingUserState>();
        services.AddScoped<CircuitHandler, UserCircuitHandler>();

        // Keys in the database: every app node can read every other node's cookies.
        services.AddDataProtection().SetApplicationName("Tideflow").PersistKeysToDbContext<TideflowDbContext>();

        services.AddLocalization();
        services.Configure<RequestLocalizationOptions>(o =>
        {
            var cultures = Profile.Cultures.Select(c => new CultureInfo(c)).ToList();
            o.DefaultRequestCulture = new RequestCulture("zh-CN");
            o.SupportedCultures = cultures;
            o.SupportedUICultures = cultures;
            o.RequestCultureProviders = [new CookieRequestCultureProvider(), new AcceptLanguageHeaderRequestCultureProvider()];
        });

        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<JsonOptions>(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));
        services.AddOpenApi(o => o.AddDocumentTransformer<ApiDocument>());
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();

        services.AddScoped<Ui>();
        services.AddScoped<ManageUsers>();
        services.AddScoped<ManageTeams>();
        services.AddScoped<SecondFactor>();
        services.AddScoped<Profile>();
        services.AddScoped<ApiTokens>();
        services.AddScoped<AuditLog>();
        services.AddScoped<Customers>();
        services.AddScoped<CaptureLead>();
        services.AddSingleton<CaptureWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<CaptureWriter>());
        services.AddScoped<Leads>();
        services.AddScoped<Channels>();
        services.AddScoped<ImportLeads>();
        services.AddScoped<TagRules>();
        services.AddScoped<ManageCustomFields>();
        services.AddScoped<Features.Pipeline.LogFollowUp>();
        services.AddScoped<Features.Pipeline.MoveStage>();
        services.AddScoped<Features.Attachments.Attachments>();
        services.AddScoped<Features.Pipeline.FeedbackRules>();
        services.AddScoped<Features.Pipeline.FollowUpPlanSettings>();
        services.AddScoped<Features.Pipeline.PipelineSettings>();
        services.AddScoped<MergeLeads>();
        services.AddScoped<Features.Notifications.Inboxes>();
        services.AddScoped<ImportRunner>();
        services.AddSingleton<JobQueue<ImportRunner>>();
        services.AddHostedService<JobWorker<ImportRunner>>();
        services.AddScoped<Features.Scoring.ScoreCards>();
        services.AddScoped<Features.Scoring.RecordBehaviour>();
        services.AddScoped<Features.Scoring.RescoreLeads>();
        services.AddScoped<Features.Scoring.RescoreRunner>();
        services.AddSingleton<JobQueue<Features.Scoring.RescoreRunner>>();
        services.AddHostedService<JobWorker<Features.Scoring.RescoreRunner>>();
        services.AddScoped<Features.Assignment.LeadRouter>();
        services.AddScoped<Features.Assignment.RoutingRules>();
        services.AddScoped<Features.Assignment.Simulator>();
        services.AddScoped<Features.Assignment.AssignOwners>();
        services.AddScoped<Features.Assignment.Availability>();
        services.AddScoped<QualifyLead>();
        services.AddScoped<Features.Pipeline.MyTasks>();
        services.AddScoped<Features.Pool.ClaimCustomer>();
        services.AddScoped<Features.Pool.ReleaseCustomer>();
        services.AddScoped<Features.Pool.PoolCustomers>();
        services.AddScoped<Features.Pool.ClaimLead>();
        services.AddScoped<Features.Pool.ReleaseLead>();
        services.AddScoped<Features.Pool.PoolLeads>();
        services.AddScoped<Features.Pool.PoolFlowFigures>();
        services.AddScoped<Features.Workbench.WorkbenchLists>();
        services.AddScoped<ScheduledJobs>();
        services.AddScoped<Features.Notifications.NotificationText>();
        services.AddSingleton<Features.Notifications.ReminderSenders>();
        services.AddHttpClient(Features.Notifications.ReminderSenders.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10));
        services.AddScoped<Features.Notifications.DeliverNotifications>();
        services.AddScoped<Features.Notifications.ReminderChoices>();
        services.AddScoped<Features.Notifications.ReminderSetup>();
        services.AddHostedService<Features.Notifications.DeliveryWorker>();
        services.AddScheduledJob<Features.Notifications.TaskReminderJob>(Features.Notifications.TaskReminderJob.Name,
            TimeSpan.FromMinutes(config.GetValue("Reminders:CheckMinutes", 1)));
        services.AddScheduledJob<Features.Pool.ReclaimJob>(Features.Pool.ReclaimJob.Name, TimeSpan.FromMinutes(config.GetValue("Pool:SweepMinutes", 10)));
        services.AddSingleton<Scheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<Scheduler>());
        services.AddCaptureRateLimits(config);
    }

    public static void UseTideflow(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRequestLocalization();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.Use((http, next) => DataScopeLoader.ResolveForRequest(http, () => next(http)));
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseAntiforgery();

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapScalarApiReference("/scalar", o => o.WithTitle("Tideflow API").WithOpenApiRoutePattern("/openapi/{documentName}.json"));

        var api = app.MapGroup("/api").RequireAuthorization();
        api.MapProfile();
        api.MapUsers();
        api.MapTeams();
        api.MapApiTokens();
        api.MapAuditLog();
        api.MapCustomers();
        api.MapLeads();
        api.MapChannels();
        api.MapImports();
        api.MapTagRules();
        api.MapCustomFields();
        Features.Pipeline.FollowUpEndpoints.MapFollowUps(api);
        Features.Pipeline.StageEndpoints.MapStages(api);
        Features.Attachments.AttachmentEndpoints.MapAttachments(api);
        Features.Pipeline.FeedbackRuleEndpoints.MapFeedbackRules(api);
        Features.Pipeline.FollowUpPlanEndpoints.MapFollowUpPlans(api);
        Features.Pipeline.PipelineEndpoints.MapPipelineSettings(api);
        api.MapMerges();
        Features.Scoring.ScoringEndpoints.MapScoring(api);
        Features.Assignment.AssignmentEndpoints.MapAssignment(api);
        api.MapQualify();
        Features.Pipeline.TaskEndpoints.MapTasks(api);
        Features.Notifications.NotificationEndpoints.MapNotifications(api);
        Features.Notifications.ReminderEndpoints.MapReminders(api);
        Features.Pool.PoolEndpoints.MapPools(api);
        Features.Workbench.WorkbenchEndpoints.MapWorkbench(api);
        api.MapScheduledJobs();
        app.MapSignIn();
        app.MapCapture();

        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
    }

    private static Task ApiOrRedirect(Microsoft.AspNetCore.Authentication.RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> ctx, int status)
    {
        if (ctx.Request.Path.StartsWithSegments("/api"))
        {
            ctx.Response.StatusCode = status;
            return Task.CompletedTask;
        }
        ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Migrates and creates the demo organisation in an empty database. Program.cs calls it before the host
/// starts, so a database that is down ends in one clear sentence; test hosts reach it as a hosted service.
/// </summary>
public sealed class DatabaseStartup(IServiceProvider services, IConfiguration config, ILogger<DatabaseStartup> logger) : IHostedService, IDisposable
{
    private readonly SemaphoreSlim once = new(1, 1);
    private bool prepared;

    public async Task PrepareAsync(CancellationToken cancellationToken = default)
    {
        await once.WaitAsync(cancellationToken);
        try
        {
            if (prepared)
            {
                return;
            }
            await Database.MigrateAsync(services, logger, cancellationToken);
            await Database.BackfillCompanyKeysAsync(services, logger, cancellationToken);
            await Features.Pool.Pools.EnsureDefaultPoolsAsync(services, cancellationToken);
            if (config.GetValue("Demo:Seed", true))
            {
                await DemoOrganisation.SeedIfEmptyAsync(services, logger, cancellationToken);
            }
            prepared = true;
        }
        finally
        {
            once.Release();
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => PrepareAsync(cancellationToken);

    public void Dispose() => once.Dispose();

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public sealed class DatabaseHealthCheck(TideflowDbContext db) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    public async Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken ct = default) =>
        await db.Database.CanConnectAsync(ct)
            ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy()
            : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("The database does not answer.");
}
