// The add-on's words per language, made from kpi's gettext catalogs by `python -m sheets.addon_messages` (make i18n). Do not edit.
var KPI_MESSAGES = {
 "pl": {
  "API key": "Klucz API",
  "Filters": "Filtry",
  "From: kpi api keys create --scope query (add --scope sync for Sync now).": "Z polecenia: kpi api keys create --scope query (dodaj --scope sync dla „Synchronizuj teraz”).",
  "Insert KPI": "Wstaw KPI",
  "Insert in the active cell": "Wstaw w aktywnej komórce",
  "Inserted {formula}": "Wstawiono {formula}",
  "Metric": "Wskaźnik",
  "Period": "Okres",
  "Save": "Zapisz",
  "Saved.": "Zapisano.",
  "Settings": "Ustawienia",
  "Sync failed: {error}": "Synchronizacja nie powiodła się: {error}",
  "Sync now": "Synchronizuj teraz",
  "Tabs synced: {count} in {seconds} s": "Zsynchronizowane karty: {count} w {seconds} s",
  "also for every editor of this file": "także dla każdego edytora tego pliku",
  "an API key starts with kpi_ (create one with: kpi api keys create --scope query)": "klucz API zaczyna się od kpi_ (utwórz go poleceniem: kpi api keys create --scope query)",
  "kpi API address": "Adres API kpi",
  "kpi settings": "Ustawienia kpi",
  "kpi: name a metric, e.g. =KPI(\"win_rate\"; \"last-quarter\")": "kpi: podaj wskaźnik, np. =KPI(\"win_rate\"; \"last-quarter\")",
  "kpi: no API address or key yet: open the menu Extensions > kpi > Settings": "kpi: brak adresu API lub klucza: otwórz menu Rozszerzenia > kpi > Ustawienia",
  "kpi: the period cell holds no valid date": "kpi: komórka okresu nie zawiera poprawnej daty",
  "kpi: write a question, e.g. \"win_rate last-quarter by region\"": "kpi: wpisz pytanie, np. \"win_rate last-quarter by region\"",
  "loading...": "wczytywanie...",
  "period": "okres",
  "the kpi API address starts with https://": "adres API kpi zaczyna się od https://",
  "the kpi service answered {code} (not JSON): {text}": "usługa kpi odpowiedziała {code} (nie JSON): {text}",
  "too many requests; try again in a moment": "za dużo zapytań; spróbuj ponownie za chwilę"
 }
};
