"""The commission reports' texts, French and English (the PDF, the /rapports pages, the refusals
of their addresses, the e-mail of a scheduled sending). Part of :data:`pilotis.core.i18n.TEXTS`."""

from __future__ import annotations

REPORT_TEXTS: dict[str, dict[str, str]] = {
    # the audit log's event (pilotis/accounts/audit.py EVENTS)
    "event_report": {"fr": "Rapport de commission (PDF)", "en": "Commission report (PDF)"},
    # the PDF (pilotis/core/report_content.py, report templates)
    "report_contents": {"fr": "Sommaire", "en": "Contents"},
    "report_key_figures": {"fr": "Chiffres clés", "en": "Key figures"},
    "report_territory": {"fr": "Territoire", "en": "Territory"},
    "report_period": {"fr": "Période", "en": "Period"},
    "report_generated": {"fr": "Produit le {day} à {time} pour {user}", "en": "Produced on {day} at {time} for {user}"},
    "report_footer": {"fr": "Données au {day} — Sources : {sources}", "en": "Data as of {day} — Sources: {sources}"},
    "report_page": {"fr": "Page", "en": "Page"},
    "report_of": {"fr": "sur", "en": "of"},
    "report_indicator": {"fr": "Indicateur", "en": "Indicator"},
    "report_value": {"fr": "Valeur", "en": "Value"},
    "report_at": {"fr": "Au", "en": "As of"},
    "report_year_before": {"fr": "Un an avant", "en": "A year before"},
    "report_change": {"fr": "Évolution", "en": "Change"},
    "report_data_table": {"fr": "Données du graphique", "en": "Chart data"},
    "report_chart_desc": {
        "fr": "{kind} : {count} valeurs, de {low} à {high}. Les valeurs sont dans le tableau qui suit.",
        "en": "{kind}: {count} values, from {low} to {high}. The values are in the table that follows.",
    },
    "report_line": {"fr": "Courbe", "en": "Line chart"},
    "report_bars": {"fr": "Diagramme en barres", "en": "Bar chart"},
    "report_no_data": {"fr": "Pas de données pour ces filtres.", "en": "No data for these filters."},
    "report_out_of_scope": {
        "fr": "Ces données ne peuvent pas être restreintes à votre territoire : elles ne figurent pas dans ce rapport.",
        "en": "This data cannot be restricted to your territory: it is left out of this report.",
    },
    "report_source_failed": {
        "fr": "Source de données indisponible lors de la production du rapport.",
        "en": "Data source unavailable when the report was produced.",
    },
    "report_simulated": {"fr": "Contient des données simulées.", "en": "Contains simulated data."},
    "report_latest": {"fr": "la plus récente", "en": "latest"},
    "report_not_exact": {
        "fr": "Les données ne descendent pas à ce territoire : chiffre du territoire englobant.",
        "en": "The data does not go down to this territory: figure of the enclosing territory.",
    },
    # comparison lines of a KPI table (element column of WidgetType.data)
    "report_el_valeur": {"fr": "Valeur", "en": "Value"},
    "report_el_previous_year": {"fr": "Un an avant", "en": "A year before"},
    "report_el_previous_period": {"fr": "Période précédente", "en": "Previous period"},
    "report_el_departement": {"fr": "Département", "en": "Département"},
    "report_el_epci": {"fr": "EPCI", "en": "EPCI"},
    "report_el_comparables": {"fr": "Territoires comparables", "en": "Comparable territories"},
    "report_el_rank": {"fr": "Rang", "en": "Rank"},
    "report_el_target": {"fr": "Cible", "en": "Target"},
    # the pages (pilotis/web/reports_page.py)
    "reports_title": {"fr": "Rapports", "en": "Reports"},
    "reports_intro": {
        "fr": "Rapports de commission en PDF accessible, produits avec vos droits et votre territoire.",
        "en": "Commission reports as accessible PDF, produced with your rights and territory.",
    },
    "reports_none": {"fr": "Aucun rapport ne vous est ouvert.", "en": "No report is open to you."},
    "reports_generate": {"fr": "Générer le PDF", "en": "Generate the PDF"},
    "reports_schedule": {
        "fr": "Envoi automatique : {cron} (heure de Paris)",
        "en": "Automatic sending: {cron} (Paris time)",
    },
    "reports_all_territory": {"fr": "Tout le département", "en": "The whole département"},
    "reports_bad_request": {"fr": "Demande de rapport invalide", "en": "Invalid report request"},
    "reports_bad_territory": {
        "fr": "Paramètre « territoire » : « {value} » n'est pas un territoire connu (ex. epci:200083392).",
        "en": "Parameter “territoire”: “{value}” is not a known territory (e.g. epci:200083392).",
    },
    "reports_bad_period": {
        "fr": "Paramètre « periode » : « {value} » n'est pas une année disponible ({years}) ni « latest ».",
        "en": "Parameter “periode”: “{value}” is not an available year ({years}) nor “latest”.",
    },
    "reports_pdf_button": {"fr": "PDF", "en": "PDF"},
    "reports_pdf_of": {"fr": "du tableau de bord filtré", "en": "of the filtered dashboard"},
    # the e-mail of a scheduled sending (pilotis/accounts/report_jobs.py)
    "reports_mail_subject": {"fr": "{title} — {territory}", "en": "{title} — {territory}"},
    "reports_mail_body": {
        "fr": "Bonjour,\n\nVous trouverez ci-joint « {title} » ({territory}, {period}), "
        "produit avec vos droits.\n\n— Pilotis",
        "en": "Hello,\n\nPlease find attached “{title}” ({territory}, {period}), "
        "produced with your rights.\n\n— Pilotis",
    },
}
